import { randomUUID } from "node:crypto";
import { type AuditEntry, appendWithItems, auditEntry, type GuardedItem, type RequestMeta } from "../audit";
import { readsPhi } from "../auth/policy";
import type { Principal } from "../auth/principal";
import type { Role } from "../auth/roles";
import { getConfig } from "../config";
import { logger } from "../log";
import { getUser, type UserRecord, type UserStatus } from "../people";
import { queryAll } from "../store/query";
import { getRecord } from "../store/records";
import { ChangeNotPendingError, ChangeTooLargeError } from "./errors";

/**
 * The two-person rule (no one reaches PHI alone outside their role). An admin could invite an address
 * they control and make that account a coach of a client, the lead of a team, or give it a PHI-reading
 * role, and read PHI as an ordinary coach. So a change that lets an account read PHI, made by an admin
 * who invited or changed that account within TWO_PERSON_WINDOW_DAYS (its `touchedBy`), is not applied:
 * it is held as a pending change until another person approves it (an admin or lead of the org who is
 * neither its requester nor an account it grants access to). Every route that makes such a change calls
 * the one gate below, `holdIfSelfGranted`; the table `PHI_GRANTS` says which changes grant what to whom.
 */

/** The changes that can grant access to PHI, exactly as requested: ids and settings, never PHI. */
export type Operation =
  | { op: "assign"; clientId: string; coachId: string }
  | { op: "reassign"; fromId: string; toId: string; clientIds: string[] }
  | {
      op: "updateUser";
      userId: string;
      version: number;
      role?: Role;
      status?: UserStatus;
      leadId?: string | null;
    };
type OperationOf<O extends Operation["op"]> = Extract<Operation, { op: O }>;

type GrantRule<O extends Operation["op"]> = {
  /** The operation that carries this kind of grant. */
  op: O;
  /**
   * The account the change lets read PHI, or undefined when this instance grants nothing. `target` is the
   * account the operation changes (updateUser), as stored before the change.
   */
  grantee: (change: OperationOf<O>, target: UserRecord | undefined) => string | undefined;
};

/** Every kind of change that gives an account access to PHI, and how to find that account. */
export const PHI_GRANTS: {
  assign: GrantRule<"assign">;
  reassign: GrantRule<"reassign">;
  lead: GrantRule<"updateUser">;
  role: GrantRule<"updateUser">;
} = {
  // PUT /clients/{clientId}/coaches/{coachId}: the coach reads the client.
  assign: { op: "assign", grantee: (change) => change.coachId },
  // POST /users/{userId}/reassign: the new coach reads every client moved to them.
  reassign: { op: "reassign", grantee: (change) => change.toId },
  // PATCH /users/{userId} with a new leadId: the lead reads the coach's clients.
  lead: {
    op: "updateUser",
    grantee: (change, target) =>
      change.leadId && change.leadId !== target?.leadId ? change.leadId : undefined,
  },
  // PATCH /users/{userId} from a role that reads no PHI to one that does (the policy says which).
  role: {
    op: "updateUser",
    grantee: (change, target) =>
      change.role && target && !readsPhi(target.role) && readsPhi(change.role) ? change.userId : undefined,
  },
};
export type GrantKind = keyof typeof PHI_GRANTS;
export type Grant = { kind: GrantKind; granteeId: string };

/** The PHI grants a change makes (none for most changes). */
export function grantsOf(change: Operation, target?: UserRecord): Grant[] {
  // Each rule is typed by its own operation; the `op` filter makes the call below sound.
  const rules = Object.entries(PHI_GRANTS) as unknown as [GrantKind, GrantRule<Operation["op"]>][];
  return rules
    .filter(([, rule]) => rule.op === change.op)
    .flatMap(([kind, rule]) => {
      const granteeId = rule.grantee(change, target);
      return granteeId ? [{ kind, granteeId }] : [];
    });
}

export type ChangeStatus = "pending" | "approved" | "rejected";

/** A change held for a second person, stored in the org's partition. */
export type HeldChange = {
  changeId: string;
  orgId: string;
  /** The first grant that made it wait. */
  kind: GrantKind;
  status: ChangeStatus;
  requesterId: string;
  /** Every account the change grants access to: none of them may decide it. */
  granteeIds: string[];
  change: Operation;
  createdAt: string;
  expiresAt: string;
  decidedBy?: string;
  decidedAt?: string;
};

/** A held change as callers see it: ids and the change, nothing else. */
export type HeldChangeView = Omit<HeldChange, "orgId">;

export const changeKey = (orgId: string, changeId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `CHANGE#${changeId}`,
});
/** Pending changes also sit in a sparse index partition; a decision takes them out of it. */
const pendingPartition = (orgId: string) => `ORG#${orgId}#CHANGES#PENDING`;

/**
 * A held reassignment is applied in one DynamoDB transaction (at most 100 items): per client its coach
 * list, two assignment items and the approval entry's disclosure pointer, plus the change and the entry.
 */
export const MAX_HELD_CLIENTS = 24;

const DAY_MS = 86_400_000;

/** Whether `adminId` invited or changed the account within the two-person window. */
function touchedRecently(account: UserRecord | undefined, adminId: string, now: Date): boolean {
  const at = account?.touchedBy?.[adminId];
  const windowStart = new Date(now.getTime() - getConfig().TWO_PERSON_WINDOW_DAYS * DAY_MS).toISOString();
  return Boolean(at && at > windowStart);
}

/** The field names a change writes, for its audit entries. */
export function changedFields(change: Operation): string[] {
  if (change.op !== "updateUser") return ["coaches"];
  return (["role", "status", "leadId"] as const).filter((field) => change[field] !== undefined);
}

export const viewOf = ({ orgId: _orgId, ...view }: HeldChange): HeldChangeView => view;

/** Whether a service's answer is a change the gate held (rather than the change made). */
export const isHeld = (result: object): result is HeldChangeView =>
  "changeId" in result && "status" in result && result.status === "pending";

/**
 * The gate every PHI-granting change passes. Returns undefined when the change may go ahead; otherwise
 * stores it as a pending change (with its audit entry, in one transaction), logs `PHI_GRANT_HELD` and
 * returns it, and the caller answers 202 without changing anything. `target` is the account an
 * updateUser operation changes, as read before the change.
 */
export async function holdIfSelfGranted(
  principal: Principal,
  request: RequestMeta,
  change: Operation,
  target?: UserRecord,
): Promise<HeldChangeView | undefined> {
  const grants = grantsOf(change, target);
  if (grants.length === 0) return undefined;
  const now = new Date();
  const grantees = await Promise.all(
    grants.map(({ granteeId }) =>
      granteeId === target?.userId ? target : getUser(principal.orgId, granteeId),
    ),
  );
  const held = grants.find((_, index) => touchedRecently(grantees[index], principal.userId, now));
  if (!held) return undefined;
  if (change.op === "reassign" && change.clientIds.length > MAX_HELD_CLIENTS) throw new ChangeTooLargeError();
  const createdAt = now.toISOString();
  const pending: HeldChange = {
    changeId: randomUUID(),
    orgId: principal.orgId,
    kind: held.kind,
    status: "pending",
    requesterId: principal.userId,
    granteeIds: [...new Set(grants.map((grant) => grant.granteeId))],
    change,
    createdAt,
    expiresAt: new Date(now.getTime() + getConfig().PENDING_CHANGE_DAYS * DAY_MS).toISOString(),
  };
  await appendWithItems(
    auditEntry(
      principal,
      request,
      "change.request",
      { type: "change", id: pending.changeId },
      changedFields(change),
    ),
    [
      {
        item: {
          Put: {
            TableName: getConfig().TABLE_RECORDS,
            Item: {
              ...changeKey(principal.orgId, pending.changeId),
              ...pending,
              gsi1pk: pendingPartition(principal.orgId),
              gsi1sk: `${createdAt}#${pending.changeId}`,
            },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      },
    ],
  );
  logger.warn("PHI grant held for a second person's approval", {
    securityEvent: "PHI_GRANT_HELD",
    changeId: pending.changeId,
    kind: pending.kind,
    requesterId: pending.requesterId,
    granteeIds: pending.granteeIds,
  });
  return viewOf(pending);
}

export async function loadChange(orgId: string, changeId: string): Promise<HeldChange | undefined> {
  const item = await getRecord<HeldChange & Record<string, unknown>>(changeKey(orgId, changeId));
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, ...change } = item;
  return change as HeldChange;
}

/** The org's changes still waiting for a decision (oldest first), leaving out expired ones. */
export async function pendingChanges(orgId: string, now = new Date()): Promise<HeldChange[]> {
  const items = await queryAll<{ changeId: string }>({
    TableName: getConfig().TABLE_RECORDS,
    IndexName: "gsi1",
    KeyConditionExpression: "gsi1pk = :pending",
    ExpressionAttributeValues: { ":pending": pendingPartition(orgId) },
    ProjectionExpression: "changeId",
  });
  // The index is eventually consistent: each change is read again from the table.
  const changes = await Promise.all(items.map((item) => loadChange(orgId, item.changeId)));
  return changes.filter(
    (change): change is HeldChange => change?.status === "pending" && change.expiresAt > now.toISOString(),
  );
}

/**
 * The transaction item that records a decision on a change, valid only while the change is pending and
 * unexpired: of two people deciding at once, exactly one succeeds, and the change applies at most once.
 */
export function decisionItem(
  change: HeldChange,
  status: Exclude<ChangeStatus, "pending">,
  deciderId: string,
  at: string,
): GuardedItem {
  return {
    item: {
      Update: {
        TableName: getConfig().TABLE_RECORDS,
        Key: changeKey(change.orgId, change.changeId),
        UpdateExpression: "SET #status = :status, decidedBy = :by, decidedAt = :at REMOVE gsi1pk, gsi1sk",
        ConditionExpression: "#status = :pending AND expiresAt > :at",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":status": status, ":by": deciderId, ":at": at, ":pending": "pending" },
      },
    },
    onConditionFailed: () => new ChangeNotPendingError(),
  };
}

/**
 * A held change being applied by its approver: the service that makes the change puts these items and
 * this audit entry (instead of its own) in the change's transaction, and skips the gate.
 */
export type Approval = { change: HeldChange; entry: AuditEntry; items: GuardedItem[] };
