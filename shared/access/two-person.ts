import { randomUUID } from "node:crypto";
import { type AuditEntry, appendWithItems, auditEntry, type GuardedItem, type RequestMeta } from "../audit";
import { readsPhi } from "../auth/policy";
import type { Principal } from "../auth/principal";
import type { Role } from "../auth/roles";
import { getConfig } from "../config";
import { logger } from "../log";
import { directoryTable, teamOf, type UserRecord, type UserStatus, userKey } from "../people";
import { assignedClientIds } from "../store/client-record";
import { batchGet, queryAll } from "../store/query";
import { getRecord } from "../store/records";
import { ChangeNotPendingError, ChangeTooLargeError, SecondPersonRequiredError } from "./errors";

/**
 * The two-person rule (no one reaches PHI alone outside their role). An admin could invite an address
 * they control and make that account a coach of a client, the lead of a team, or give it a PHI-reading
 * role, and read PHI as an ordinary coach; or invite a second admin or a lead they control and act, or
 * approve, through it. So the rule reasons about **circles**, not single accounts:
 *
 * - controllers(X): the admins who invited or changed account X within TWO_PERSON_WINDOW_DAYS (X's
 *   `touchedBy`), closed transitively within the window: an admin A2 whom A invited or changed within
 *   the window is A's, so A controls whatever A2 touched within the window too.
 * - circle(X) = {X} ∪ controllers*(X): the accounts that may be one person acting as X.
 *
 * A change that lets accounts (its grantees) read PHI, requested by R, is held as a pending change when
 * circle(R) meets circle(g) for any grantee g (R, or an admin R controls, or an admin controlling R,
 * touched g or one of g's controllers). Another person decides it: someone whose circle meets neither
 * circle(R) nor any grantee's circle. Every route that makes such a change calls the one gate below,
 * `holdIfSelfGranted`; deciders pass `requireSecondPerson`; the table `PHI_GRANTS` says which changes
 * grant what to whom. The window is the rule's limit: touches older than it no longer count.
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

/**
 * What a grant rule may ask about the account an operation names (each read at most once, and only when
 * a rule asks): the account updateUser changes, or the coach assign and reassign give clients to, as
 * stored before the change; whether it leads a team; whether it has clients.
 */
export type GrantFacts = {
  account: () => Promise<UserRecord | undefined>;
  leadsTeam: () => Promise<boolean>;
  hasClients: () => Promise<boolean>;
};

type GrantRule<O extends Operation["op"]> = {
  /** The operation that carries this kind of grant. */
  op: O;
  /** The accounts the change lets read PHI (none when this instance grants nothing). */
  grantees: (change: OperationOf<O>, facts: GrantFacts) => Promise<(string | undefined)[]>;
};

/** Whether moving an account from one role to another lets it read PHI it could not read before. */
async function roleGains(from: Role, to: Role, facts: GrantFacts): Promise<boolean> {
  if (!readsPhi(from) && readsPhi(to)) return true;
  // A lead reads its team's clients: a coach made lead of a team that still points at it gains them.
  return (
    !readsPhi(from, ["lead_of_assigned"]) && readsPhi(to, ["lead_of_assigned"]) && (await facts.leadsTeam())
  );
}

/** Every kind of change that gives an account access to PHI, and how to find those accounts. */
export const PHI_GRANTS: {
  assign: GrantRule<"assign">;
  reassign: GrantRule<"reassign">;
  lead: GrantRule<"updateUser">;
  role: GrantRule<"updateUser">;
  reenable: GrantRule<"updateUser">;
} = {
  // PUT /clients/{clientId}/coaches/{coachId}: the coach reads the client, and so does the coach's lead.
  assign: {
    op: "assign",
    grantees: async (change, facts) => [change.coachId, (await facts.account())?.leadId],
  },
  // POST /users/{userId}/reassign: the new coach (and its lead) read every client moved to them.
  reassign: {
    op: "reassign",
    grantees: async (change, facts) => [change.toId, (await facts.account())?.leadId],
  },
  // PATCH /users/{userId} with a new leadId: the lead reads the coach's clients.
  lead: {
    op: "updateUser",
    grantees: async (change, facts) =>
      change.leadId && change.leadId !== (await facts.account())?.leadId ? [change.leadId] : [],
  },
  // PATCH /users/{userId} to a role that reads PHI the account's role did not (the policy says which).
  role: {
    op: "updateUser",
    grantees: async (change, facts) => {
      const account = await facts.account();
      if (!change.role || !account || change.role === account.role) return [];
      return (await roleGains(account.role, change.role, facts)) ? [change.userId] : [];
    },
  },
  // PATCH /users/{userId} {status: "active"} of a disabled account that has clients or a team.
  reenable: {
    op: "updateUser",
    grantees: async (change, facts) => {
      const account = await facts.account();
      if (change.status !== "active" || account?.status !== "disabled") return [];
      return (await facts.hasClients()) || (await facts.leadsTeam()) ? [change.userId] : [];
    },
  },
};
export type GrantKind = keyof typeof PHI_GRANTS;
export type Grant = { kind: GrantKind; granteeId: string };

/** The PHI grants a change makes (none for most changes). */
export async function grantsOf(change: Operation, facts: GrantFacts): Promise<Grant[]> {
  // Each rule is typed by its own operation; the `op` filter makes the call below sound.
  const rules = Object.entries(PHI_GRANTS) as unknown as [GrantKind, GrantRule<Operation["op"]>][];
  const found = await Promise.all(
    rules
      .filter(([, rule]) => rule.op === change.op)
      .map(async ([kind, rule]) =>
        (await rule.grantees(change, facts))
          .filter((granteeId): granteeId is string => Boolean(granteeId))
          .map((granteeId) => ({ kind, granteeId })),
      ),
  );
  return found.flat();
}

/** The org's directory as the rule reads it: each account fetched once per decision, in batches. */
export type Directory = (userIds: readonly string[]) => Promise<Map<string, UserRecord>>;

function directoryOf(orgId: string, known: readonly (UserRecord | undefined)[] = []): Directory {
  const cache = new Map<string, UserRecord | undefined>(
    known.filter((user): user is UserRecord => Boolean(user)).map((user) => [user.userId, user]),
  );
  return async (userIds) => {
    const missing = [...new Set(userIds)].filter((id) => !cache.has(id));
    if (missing.length > 0) {
      const found = await batchGet<UserRecord>(
        directoryTable(),
        missing.map((id) => userKey(orgId, id)),
      );
      for (const id of missing) cache.set(id, undefined);
      for (const user of found) cache.set(user.userId, user);
    }
    const users = new Map<string, UserRecord>();
    for (const id of userIds) {
      const user = cache.get(id);
      if (user) users.set(id, user);
    }
    return users;
  };
}

/** The facts the grant rules read about the account a change names, each loaded only if asked. */
function factsFor(orgId: string, change: Operation, directory: Directory): GrantFacts {
  const accountId =
    change.op === "assign" ? change.coachId : change.op === "reassign" ? change.toId : change.userId;
  const once = <T>(load: () => Promise<T>) => {
    let value: Promise<T> | undefined;
    return () => {
      value ??= load();
      return value;
    };
  };
  return {
    account: once(async () => (await directory([accountId])).get(accountId)),
    leadsTeam: once(async () => (await teamOf(orgId, accountId)).size > 0),
    hasClients: once(async () => (await assignedClientIds(orgId, accountId)).length > 0),
  };
}

const DAY_MS = 86_400_000;

/** The start of the two-person window: touches at or before it no longer count. */
export const windowStart = (now: Date) =>
  new Date(now.getTime() - getConfig().TWO_PERSON_WINDOW_DAYS * DAY_MS).toISOString();

/**
 * circle(X): X and every admin who controls X within the window (who invited or changed X after `since`,
 * or controls such an admin), read level by level through `touchedBy`.
 */
export async function circleOf(userId: string, directory: Directory, since: string): Promise<Set<string>> {
  const circle = new Set([userId]);
  for (let frontier = [userId]; frontier.length > 0; ) {
    const users = await directory(frontier);
    frontier = [];
    for (const user of users.values()) {
      for (const [adminId, at] of Object.entries(user.touchedBy ?? {})) {
        if (at > since && !circle.has(adminId)) {
          circle.add(adminId);
          frontier.push(adminId);
        }
      }
    }
  }
  return circle;
}

const meet = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...a].some((id) => b.has(id));

export type ChangeStatus = "pending" | "approved" | "rejected";

/**
 * A change held for a second person, stored in the directory table in the org's partition of held
 * changes. Approving one applies it as its requester, so writing one is as sensitive as writing a person:
 * only people-managing functions (`directory:write`) and those that hold or reject changes
 * (`changes:hold`, limited by IAM to these partitions) may.
 */
export type HeldChange = {
  changeId: string;
  orgId: string;
  /** The first grant that made it wait. */
  kind: GrantKind;
  status: ChangeStatus;
  requesterId: string;
  /** Every account the change grants access to: none of them, nor anyone in their circles, may decide it. */
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
  pk: `ORG#${orgId}#CHANGES`,
  sk: `CHANGE#${changeId}`,
});
/** The directory partitions holding changes (an IAM `dynamodb:LeadingKeys` pattern); no user's is one. */
export const HELD_CHANGE_PARTITION_PATTERN = "ORG#*#CHANGES";
/** Pending changes also sit in a sparse index partition; a decision takes them out of it. */
const pendingPartition = (orgId: string) => `ORG#${orgId}#CHANGES#PENDING`;

/**
 * A held reassignment is applied in one DynamoDB transaction (at most 100 items): per client its coach
 * list, two assignment items and the approval entry's disclosure pointer, plus the change and the entry.
 */
export const MAX_HELD_CLIENTS = 24;

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
 * The gate every PHI-granting change passes. Returns undefined when the change may go ahead (it grants
 * nothing, or the requester's circle meets no grantee's); otherwise stores it as a pending change (with
 * its audit entry, in one transaction), logs `PHI_GRANT_HELD` and returns it, and the caller answers 202
 * without changing anything. `target` is the account an updateUser operation changes, as read before it.
 */
export async function holdIfSelfGranted(
  principal: Principal,
  request: RequestMeta,
  change: Operation,
  target?: UserRecord,
): Promise<HeldChangeView | undefined> {
  const directory = directoryOf(principal.orgId, [target]);
  const grants = await grantsOf(change, factsFor(principal.orgId, change, directory));
  if (grants.length === 0) return undefined;
  const now = new Date();
  const since = windowStart(now);
  const requester = await circleOf(principal.userId, directory, since);
  // One circle after another, so accounts they share are read once.
  let held: Grant | undefined;
  for (const grant of grants) {
    if (meet(requester, await circleOf(grant.granteeId, directory, since))) {
      held = grant;
      break;
    }
  }
  const granteeIds = [...new Set(grants.map((grant) => grant.granteeId))];
  if (!held) {
    // Not held: the requester's own decision, audited by the change itself. Not a security event: an
    // ordinary assignment must not page the security mailbox (alarms that always ring go unread).
    logger.info("PHI grant by a requester independent of its grantees", {
      grantKind: grants[0]?.kind,
      requesterId: principal.userId,
      granteeIds,
    });
    return undefined;
  }
  if (change.op === "reassign" && change.clientIds.length > MAX_HELD_CLIENTS) throw new ChangeTooLargeError();
  const createdAt = now.toISOString();
  const pending: HeldChange = {
    changeId: randomUUID(),
    orgId: principal.orgId,
    kind: held.kind,
    status: "pending",
    requesterId: principal.userId,
    granteeIds,
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
            TableName: directoryTable(),
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

/**
 * Who may decide a held change: someone whose circle meets neither the requester's nor any grantee's
 * (the grantees it named when requested and those it would have now, should an account have changed
 * since), so not the requester, an account the requester invited or changed within the window, a
 * grantee, nor anyone controlling one of them. Throws `SECOND_PERSON_REQUIRED` otherwise.
 */
export async function requireSecondPerson(
  orgId: string,
  deciderId: string,
  change: HeldChange,
): Promise<void> {
  const directory = directoryOf(orgId);
  const now = await grantsOf(change.change, factsFor(orgId, change.change, directory));
  const parties = new Set([change.requesterId, ...change.granteeIds, ...now.map((grant) => grant.granteeId)]);
  await requireIndependentOf(orgId, deciderId, [...parties], directory);
}

/**
 * That a decider is another person than every party: their circles do not meet (so not a party, nor an
 * account a party invited or changed within the window, nor one that invited or changed a party). Throws
 * `SECOND_PERSON_REQUIRED` otherwise. A break-glass review calls it with the grantee as the party.
 */
export async function requireIndependentOf(
  orgId: string,
  deciderId: string,
  partyIds: readonly string[],
  directory = directoryOf(orgId),
): Promise<void> {
  const since = windowStart(new Date());
  const decider = await circleOf(deciderId, directory, since);
  for (const party of new Set(partyIds)) {
    if (meet(decider, await circleOf(party, directory, since))) throw new SecondPersonRequiredError();
  }
}

export async function loadChange(orgId: string, changeId: string): Promise<HeldChange | undefined> {
  const item = await getRecord<HeldChange & Record<string, unknown>>(
    changeKey(orgId, changeId),
    directoryTable(),
  );
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, ...change } = item;
  return change as HeldChange;
}

/** The org's changes still waiting for a decision (oldest first), leaving out expired ones. */
export async function pendingChanges(orgId: string, now = new Date()): Promise<HeldChange[]> {
  const items = await queryAll<{ changeId: string }>({
    TableName: directoryTable(),
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
        TableName: directoryTable(),
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
