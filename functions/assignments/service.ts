import { accessClient, type ClientAccess } from "../../shared/access";
import { appendWithItems, auditEntry, type GuardedItem, type RequestMeta } from "../../shared/audit";
import type { Principal } from "../../shared/auth";
import { getConfig } from "../../shared/config";
import { ConflictError, ValidationError } from "../../shared/errors";
import { getUser } from "../../shared/people";
import { type ClientRecord, recordsWithPrefix } from "../../shared/store";
import { assignmentKey } from "../clients/service";

/**
 * Which coaches a client has. The client item's `coaches` list decides access; an ASSIGN item per
 * coach lets a coach list their clients. Both change in one transaction with the audit entry, and
 * only if the list is still what was read (a concurrent change is a 409, never a lost update).
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

/** Commits a new coach list with its assignment items and the audit entry, in one transaction. */
function commitCoaches(
  principal: Principal,
  request: RequestMeta,
  access: ClientAccess,
  action: string,
  coaches: string[],
  assignmentItems: GuardedItem[],
) {
  const { clientId } = access.client;
  return appendWithItems(
    auditEntry(principal, request, action, { type: "client", id: clientId, clientId }, ["coaches"], access),
    [coachesChange(access.client, coaches), ...assignmentItems],
  );
}

async function requireCoach(orgId: string, coachId: string) {
  const coach = await getUser(orgId, coachId);
  if (coach?.status !== "active" || coach.role === "admin") {
    throw new ValidationError([{ field: "path.coachId", rule: "active_coach" }]);
  }
}

export async function assignCoach(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  coachId: string,
) {
  const access = await accessClient(principal, clientId, "client:assign");
  const { client } = access;
  await requireCoach(principal.orgId, coachId);
  if (client.coaches.includes(coachId)) return { clientId, coaches: client.coaches };
  const coaches = [...client.coaches, coachId];
  await commitCoaches(principal, request, access, "client.assign", coaches, [
    putAssignment(principal.orgId, coachId, clientId),
  ]);
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
  await commitCoaches(principal, request, access, "client.unassign", coaches, [
    deleteAssignment(principal.orgId, coachId, clientId),
  ]);
  return { clientId, coaches };
}

export async function moveAssignment(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  fromId: string,
  toId: string,
) {
  const access = await accessClient(principal, clientId, "client:assign");
  const { client } = access;
  const coaches = [...new Set(client.coaches.map((id) => (id === fromId ? toId : id)))];
  await commitCoaches(principal, request, access, "client.reassign", coaches, [
    deleteAssignment(principal.orgId, fromId, clientId),
    ...(client.coaches.includes(toId) ? [] : [putAssignment(principal.orgId, toId, clientId)]),
  ]);
}

export async function assignedClientIds(orgId: string, coachId: string): Promise<string[]> {
  const assignments = await recordsWithPrefix<{ clientId: string }>(orgId, `ASSIGN#${coachId}#`);
  return assignments.map((assignment) => assignment.clientId);
}
