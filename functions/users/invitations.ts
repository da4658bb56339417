import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { v7 as timeOrderedId } from "uuid";
import * as z from "zod";
import {
  type AuditEntry,
  appendWithItems,
  auditEntry,
  type RequestMeta,
  type ServiceActor,
} from "../../shared/audit";
import type { Principal } from "../../shared/auth";
import type { Role } from "../../shared/auth/roles";
import { aws } from "../../shared/aws";
import { ConflictError } from "../../shared/errors";
import type { JobInvocation } from "../../shared/jobs";
import { logger } from "../../shared/log";
import {
  createAccount,
  directoryTable,
  followDirectory,
  getUser,
  isActiveAdmin,
  isActiveLead,
  isOwnEarlierAttempt,
  orgRegistryItem,
  pendingInviteItem,
  pendingSyncItem,
  settledInviteItem,
  stillActiveItem,
  touched,
  type UserRecord,
  userItem,
} from "../../shared/people";
import { cursorScope, getRecord, openCursor, pageSize, sealCursor } from "../../shared/store";

/**
 * Invitations. All orgs share one user pool, so whether an address already has an account is
 * something an admin of another org must not learn. `POST /users` therefore only records the
 * invitation (audited, the same work whatever the address) and starts the `processInvite` job, which
 * creates the account and the directory entry, or marks the invitation `failed` without saying why.
 * Admins follow the outcome in `GET /users/invites`.
 */
export type InvitationStatus = "pending" | "sent" | "failed";
export type InvitationRecord = {
  inviteId: string;
  orgId: string;
  email: string;
  role: Role;
  leadId?: string;
  status: InvitationStatus;
  /** The account's id, once `sent`. */
  userId?: string;
  invitedBy: string;
  createdAt: string;
  updatedAt: string;
};

const INVITE_PREFIX = "INVITE#";
const invitationKey = (orgId: string, inviteId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `${INVITE_PREFIX}${inviteId}`,
});

/** What an admin sees of an invitation: never why one failed. */
export const invitationView = (invite: InvitationRecord) => ({
  inviteId: invite.inviteId,
  email: invite.email,
  role: invite.role,
  ...(invite.leadId && { leadId: invite.leadId }),
  status: invite.status,
  ...(invite.userId && { userId: invite.userId }),
  invitedBy: invite.invitedBy,
  createdAt: invite.createdAt,
  updatedAt: invite.updatedAt,
});

const writtenFields = (invite: Pick<InvitationRecord, "leadId">) => [
  "email",
  "role",
  ...(invite.leadId ? ["leadId"] : []),
];

/** Records a pending invitation with its audit entry and its work item, in one transaction. */
export async function recordInvitation(
  principal: Principal,
  request: RequestMeta,
  input: { email: string; role: Role; leadId?: string | undefined },
): Promise<InvitationRecord> {
  const now = new Date().toISOString();
  // Time-ordered, so the org's invitations list newest first by key.
  const inviteId = timeOrderedId();
  const invite: InvitationRecord = {
    inviteId,
    orgId: principal.orgId,
    email: input.email,
    role: input.role,
    ...(input.leadId && { leadId: input.leadId }),
    status: "pending",
    invitedBy: principal.userId,
    createdAt: now,
    updatedAt: now,
  };
  await appendWithItems(
    auditEntry(principal, request, "user.invite", { type: "invite", id: inviteId }, writtenFields(invite)),
    [
      {
        item: {
          Put: {
            TableName: directoryTable(),
            Item: { ...invitationKey(principal.orgId, inviteId), ...invite },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      },
      pendingInviteItem(principal.orgId, inviteId, now),
    ],
  );
  return invite;
}

const ListPosition = z.strictObject({ sk: z.string().startsWith(INVITE_PREFIX).max(100) });

/** The org's invitations, newest first, one page; the cursor is sealed to the caller and this list. */
export async function listInvitations(principal: Principal, query: { limit?: number; cursor?: string }) {
  const scope = cursorScope(principal, "listInvites");
  const after = (await openCursor(scope, ListPosition, query.cursor))?.sk;
  const out = await aws("dynamo").send(
    new QueryCommand({
      TableName: directoryTable(),
      KeyConditionExpression: "pk = :p AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":p": `ORG#${principal.orgId}`, ":prefix": INVITE_PREFIX },
      ScanIndexForward: false,
      Limit: pageSize(query.limit),
      ConsistentRead: true,
      ...(after && { ExclusiveStartKey: { pk: `ORG#${principal.orgId}`, sk: after } }),
    }),
  );
  const last = out.LastEvaluatedKey?.sk;
  const nextCursor = await sealCursor(scope, typeof last === "string" ? { sk: last } : undefined);
  return {
    items: ((out.Items ?? []) as InvitationRecord[]).map(invitationView),
    ...(nextCursor && { nextCursor }),
  };
}

const SETTLED = "INVITATION_SETTLED";
const TAKEN = "USER_EXISTS";
const UNQUALIFIED = "INVITATION_UNQUALIFIED";

/** The invitation's transition out of `pending`, refused if another run settled it first. */
function settleItem(invite: InvitationRecord, status: InvitationStatus, now: string, userId?: string) {
  return {
    item: {
      Update: {
        TableName: directoryTable(),
        Key: invitationKey(invite.orgId, invite.inviteId),
        UpdateExpression: `SET #s = :status, updatedAt = :now${userId ? ", userId = :user" : ""}`,
        ConditionExpression: "#s = :pending",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: {
          ":status": status,
          ":now": now,
          ":pending": "pending",
          ...(userId && { ":user": userId }),
        },
      },
    },
    onConditionFailed: () => new ConflictError(SETTLED, "The invitation was settled by another run."),
  };
}

const unqualified = () =>
  new ConflictError(UNQUALIFIED, "The inviter is no longer an active admin, or the lead an active lead.");

const isConflict = (error: unknown, code: string) => error instanceof ConflictError && error.code === code;

type Outcome = InvitationStatus | "missing";

/**
 * Marks the invitation failed. The inviting admin learns that it failed, never why: an account in
 * another org, a duplicate in theirs, an account not made by this invitation, an address Cognito
 * refused, an inviter or lead who no longer qualifies look the same. The reason goes to the operators'
 * log only (the `INVITATION_FAILED` security event).
 */
async function fail(
  invite: InvitationRecord,
  actor: ServiceActor,
  meta: RequestMeta,
  reason: string,
): Promise<Outcome> {
  const entry: AuditEntry = {
    ...auditEntry(actor, meta, "user.invite.fail", { type: "invite", id: invite.inviteId }, ["status"]),
    outcome: "failure",
  };
  try {
    await appendWithItems(entry, [
      settleItem(invite, "failed", new Date().toISOString()),
      settledInviteItem(invite.orgId, invite.inviteId),
    ]);
  } catch (error) {
    if (isConflict(error, SETTLED)) return currentStatus(invite.orgId, invite.inviteId);
    throw error;
  }
  logger.warn("invitation failed", {
    securityEvent: "INVITATION_FAILED",
    orgId: invite.orgId,
    inviteId: invite.inviteId,
    reason,
  });
  return "failed";
}

/**
 * Creates the invited account, then its directory entry, safely under retries (Lambda retries an
 * asynchronous start twice, and the scheduled identity sync starts it again while it is pending):
 * - a run that finds the invitation settled does nothing;
 * - what allowed the invitation must still hold: the inviter an active admin of the org, the lead (if
 *   any) an active lead; otherwise the invitation fails (checked before Cognito, and again in the commit);
 * - an account that already exists for the address is adopted only when it is provably this
 *   invitation's own earlier attempt (`isOwnEarlierAttempt`: this org, never signed in, created at or
 *   after the invitation) and no directory entry has it yet; in any other case (an account planted with
 *   the org and a password someone knows, one in use) the invitation fails;
 * - the directory entry, the org registry, the invitation's `sent` and the audit entry commit in one
 *   transaction, conditional on the entry not existing, the invitation still pending, and the inviter
 *   and lead still qualifying;
 * - then Cognito follows the directory (the role's group), as for any change to a person.
 */
export async function processInvitation(
  orgId: string,
  inviteId: string,
  job: JobInvocation,
): Promise<Outcome> {
  const invite = await getRecord<InvitationRecord>(invitationKey(orgId, inviteId), directoryTable());
  if (!invite) return "missing";
  if (invite.status !== "pending") return invite.status;
  const actor: ServiceActor = { service: job.service, orgId };
  // The invitation is acted on later: what allowed it must still hold (checked again in the commit).
  const [inviter, lead] = await Promise.all([
    getUser(orgId, invite.invitedBy),
    invite.leadId ? getUser(orgId, invite.leadId) : undefined,
  ]);
  if (!isActiveAdmin(inviter)) return fail(invite, actor, job.meta, "inviter_not_active_admin");
  if (invite.leadId && !isActiveLead(lead)) return fail(invite, actor, job.meta, "lead_not_active_lead");

  const created = await createAccount(invite.email, orgId);
  if (created.outcome === "refused") return fail(invite, actor, job.meta, "refused");
  const { account } = created;
  if (created.outcome === "exists") {
    if (account.orgId !== orgId) return fail(invite, actor, job.meta, "exists_elsewhere");
    if (await getUser(orgId, account.sub)) return fail(invite, actor, job.meta, "exists_in_org");
    if (!isOwnEarlierAttempt(account, orgId, invite.createdAt))
      return fail(invite, actor, job.meta, "exists_not_this_invitation");
  }

  const now = new Date().toISOString();
  const user: UserRecord = {
    userId: account.sub,
    username: account.username,
    orgId,
    email: invite.email,
    role: invite.role,
    status: "active",
    ...(invite.leadId && { leadId: invite.leadId }),
    touchedBy: touched({}, invite.invitedBy, invite.createdAt),
    identitySync: "pending",
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await appendWithItems(
      auditEntry(actor, job.meta, "user.create", { type: "user", id: user.userId }, [
        ...writtenFields(invite),
        "status",
      ]),
      [
        settleItem(invite, "sent", now, user.userId),
        {
          item: {
            Put: {
              TableName: directoryTable(),
              Item: userItem(user),
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
          onConditionFailed: () => new ConflictError(TAKEN, "The account already has a directory entry."),
        },
        { item: { Put: { TableName: directoryTable(), Item: orgRegistryItem(orgId) } } },
        settledInviteItem(orgId, inviteId),
        pendingSyncItem(user),
        { item: stillActiveItem(orgId, invite.invitedBy, "admin"), onConditionFailed: unqualified },
        ...(invite.leadId
          ? [{ item: stillActiveItem(orgId, invite.leadId, "coach_lead"), onConditionFailed: unqualified }]
          : []),
      ],
    );
  } catch (error) {
    if (isConflict(error, SETTLED)) return currentStatus(orgId, inviteId);
    // The inviter or the lead changed between the check above and the commit.
    if (isConflict(error, UNQUALIFIED)) return fail(invite, actor, job.meta, "inviter_or_lead_changed");
    // Another invitation of this org won the same account (two invitations of one address at once).
    if (isConflict(error, TAKEN)) return fail(invite, actor, job.meta, "exists_in_org");
    throw error;
  }
  await followDirectory(orgId, user.userId);
  return "sent";
}

async function currentStatus(orgId: string, inviteId: string): Promise<Outcome> {
  return (
    (await getRecord<InvitationRecord>(invitationKey(orgId, inviteId), directoryTable()))?.status ?? "missing"
  );
}
