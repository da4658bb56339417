import {
  type Approval,
  accessClient,
  ChangeStaleError,
  type ClientAccess,
  type HeldChangeView,
  holdIfSelfGranted,
} from "../../shared/access";
import { appendWithItems, auditEntry, type GuardedItem, type RequestMeta } from "../../shared/audit";
import { type Principal, readsPhi } from "../../shared/auth";
import { getConfig } from "../../shared/config";
import { ConflictError, ValidationError } from "../../shared/errors";
import { getUser } from "../../shared/people";
import { assignedClientIds, type ClientRecord } from "../../shared/store";
import { assignmentKey } from "../clients/service";

/**
 * Which coaches a client has. The client item's `coaches` list decides access; an ASSIGN item per
 * coach lets a coach list their clients. Every change sets the next list and derives the ASSIGN items
 * from the difference, in one transaction with the audit entry, and only if the list is still what
 * was read (a concurrent change is a 409, never a lost update): the two can never disagree.
 */
function coachesChange(client: ClientRecord, coaches: string[]): GuardedItem {
  return {
    item: {
      Update: {
        TableName: getConfig().TABLE_RECORDS,
        Key: { pk: client.pk, sk: client.sk },
        UpdateExpression: "SET coaches = :next",
        ConditionExpression: "coaches = :previous",
        ExpressionAttributeValues: { ":next": coaches, ":previous": client.coaches },
      },
    },
    onConditionFailed: () =>
      new ConflictError("ASSIGNMENT_CONFLICT", "The client's coaches changed; read them again."),
  };
}

const putAssignment = (orgId: string, coachId: string, clientId: string): GuardedItem => ({
  item: {
    Put: {
      TableName: getConfig().TABLE_RECORDS,
      Item: {
        ...assignmentKey(orgId, coachId, clientId),
        coachId,
        clientId,
        assignedAt: new Date().toISOString(),
      },
    },
  },
});

const deleteAssignment = (orgId: string, coachId: string, clientId: string): GuardedItem => ({
  item: { Delete: { TableName: getConfig().TABLE_RECORDS, Key: assignmentKey(orgId, coachId, clientId) } },
});

/** The items that make a client's coaches `next`: the list, and an ASSIGN item per coach added or removed. */
function coachItems(orgId: string, client: ClientRecord, next: string[]): GuardedItem[] {
  return [
    coachesChange(client, next),
    ...client.coaches
      .filter((id) => !next.includes(id))
      .map((id) => deleteAssignment(orgId, id, client.clientId)),
    ...next
      .filter((id) => !client.coaches.includes(id))
      .map((id) => putAssignment(orgId, id, client.clientId)),
  ];
}

/** Commits a new coach list with its assignment items and the audit entry (an approval's, if given), in one transaction. */
function commitCoaches(
  principal: Principal,
  request: RequestMeta,
  access: ClientAccess,
  action: string,
  coaches: string[],
  approval?: Approval,
) {
  const { clientId } = access.client;
  return appendWithItems(
    approval?.entry ??
      auditEntry(principal, request, action, { type: "client", id: clientId, clientId }, ["coaches"], access),
    [...(approval?.items ?? []), ...coachItems(principal.orgId, access.client, coaches)],
  );
}

/**
 * Only an active coach or lead of the caller's org can be a client's coach: the roles the policy lets
 * read PHI as the assigned coach (so never an admin or a compliance officer).
 */
export async function requireAssignable(orgId: string, userId: string, field: string) {
  const user = await getUser(orgId, userId);
  if (user?.status !== "active" || !readsPhi(user.role, ["assigned"])) {
    throw new ValidationError([{ field, rule: "active_coach" }]);
  }
}

/** Assigns a coach, unless the two-person rule holds the assignment (then the pending change is returned). */
export async function assignCoach(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  coachId: string,
  approval?: Approval,
): Promise<{ clientId: string; coaches: string[] } | HeldChangeView> {
  const access = await accessClient(principal, clientId, "client:assign");
  const { client } = access;
  await requireAssignable(principal.orgId, coachId, "path.coachId");
  if (client.coaches.includes(coachId)) {
    if (approval) throw new ChangeStaleError();
    return { clientId, coaches: client.coaches };
  }
  const held = approval
    ? undefined
    : await holdIfSelfGranted(principal, request, { op: "assign", clientId, coachId });
  if (held) return held;
  const coaches = [...client.coaches, coachId];
  await commitCoaches(principal, request, access, "client.assign", coaches, approval);
  return { clientId, coaches };
}

export async function unassignCoach(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  coachId: string,
) {
  const access = await accessClient(principal, clientId, "client:assign");
  const { client } = access;
  if (!client.coaches.includes(coachId)) return { clientId, coaches: client.coaches };
  const coaches = client.coaches.filter((id) => id !== coachId);
  await commitCoaches(principal, request, access, "client.unassign", coaches);
  return { clientId, coaches };
}

/** A client's coaches with `fromId` replaced by `toId` (once, if `toId` already coaches the client). */
const moved = (coaches: readonly string[], fromId: string, toId: string) => [
  ...new Set(coaches.map((id) => (id === fromId ? toId : id))),
];

export async function moveAssignment(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  fromId: string,
  toId: string,
) {
  const access = await accessClient(principal, clientId, "client:assign");
  await commitCoaches(
    principal,
    request,
    access,
    "client.reassign",
    moved(access.client.coaches, fromId, toId),
  );
}

/**
 * Applies an approved reassignment: every client the change names, all in one transaction with the
 * approval, and only if those are still exactly the departing coach's clients.
 */
export async function moveAssignmentsApproved(
  principal: Principal,
  clientIds: readonly string[],
  fromId: string,
  toId: string,
  approval: Approval,
) {
  const current = await assignedClientIds(principal.orgId, fromId);
  const same = current.length === clientIds.length && clientIds.every((id) => current.includes(id));
  if (!same) throw new ChangeStaleError();
  const clients = await Promise.all(clientIds.map((id) => accessClient(principal, id, "client:assign")));
  await appendWithItems(approval.entry, [
    ...approval.items,
    ...clients.flatMap(({ client }) =>
      coachItems(principal.orgId, client, moved(client.coaches, fromId, toId)),
    ),
  ]);
}
