import type * as z from "zod";
import { type Approval, holdIfSelfGranted } from "../../shared/access";
import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import { type Principal, pick, requireOrgAction } from "../../shared/auth";

import { ConflictError, NotFoundError, ValidationError } from "../../shared/errors";
import { startJob } from "../../shared/jobs";
import { logger } from "../../shared/log";
import {
  directoryTable,
  followDirectory,
  getUser,
  isActiveLead,
  listUsers,
  pendingSyncItem,
  touched,
  type UserRecord,
  userItem,
} from "../../shared/people";
import { assignedClientIds, versionedPut } from "../../shared/store";
import { moveAssignment, moveAssignmentsApproved, requireAssignable } from "../assignments/service";
import { invitationView, listInvitations, recordInvitation } from "./invitations";
import type { InviteUserSchema, UpdateUserSchema } from "./schema";

/** People and teams: admins invite users, change roles, disable and re-enable them, and set teams. */
const view = (user: UserRecord, fields: ReadonlySet<string>) =>
  pick(user as unknown as Record<string, unknown>, fields);

async function requireLead(orgId: string, leadId: string | undefined | null) {
  if (!leadId) return;
  if (!isActiveLead(await getUser(orgId, leadId))) {
    throw new ValidationError([{ field: "body.leadId", rule: "active_coach_lead" }]);
  }
}

/**
 * Records an invitation and starts the job that creates the account: the same answer and the same work
 * for an unused address and for one that has an account in another org (see `invitations.ts`). An
 * address already in the caller's own directory is refused at once: the admin can list their org anyway.
 */
export async function inviteUser(
  principal: Principal,
  request: RequestMeta,
  input: z.infer<typeof InviteUserSchema>,
) {
  requireOrgAction(principal, "user:manage");
  await requireLead(principal.orgId, input.leadId);
  if ((await listUsers(principal.orgId)).some((user) => user.email.toLowerCase() === input.email))
    throw new ConflictError("USER_EXISTS", "A user with this email is already in your organization.");
  const invite = await recordInvitation(principal, request, input);
  try {
    await startJob("processInvite", { orgId: invite.orgId, inviteId: invite.inviteId });
  } catch (error) {
    // The invitation is queued: the scheduled identity sync starts its job again if it never starts.
    logger.warn("invitation job did not start", { orgId: invite.orgId, inviteId: invite.inviteId, error });
  }
  return invitationView(invite);
}

export async function listInvites(principal: Principal, query: { limit?: number; cursor?: string }) {
  requireOrgAction(principal, "user:manage");
  return listInvitations(principal, query);
}

export async function listOrgUsers(principal: Principal) {
  const fields = requireOrgAction(principal, "user:read");
  return { items: (await listUsers(principal.orgId)).map((user) => view(user, fields)) };
}

export async function updateUser(
  principal: Principal,
  request: RequestMeta,
  userId: string,
  input: z.infer<typeof UpdateUserSchema>,
  approval?: Approval,
) {
  const fields = requireOrgAction(principal, "user:manage");
  const current = await getUser(principal.orgId, userId);
  if (!current) throw new NotFoundError();
  if (userId === principal.userId && (input.role || input.status)) {
    throw new ConflictError("SELF_CHANGE_FORBIDDEN", "You cannot change your own role or status.");
  }
  if (input.version !== current.version)
    throw new ConflictError("VERSION_CONFLICT", "The user was changed since you read it.");
  await requireLead(principal.orgId, input.leadId);
  const held = approval
    ? undefined
    : await holdIfSelfGranted(principal, request, { op: "updateUser", userId, ...input }, current);
  if (held) return held;
  // Cognito follows the directory after the commit; a user still pending from an earlier change is re-applied.
  const syncCognito =
    (input.role !== undefined && input.role !== current.role) ||
    (input.status !== undefined && input.status !== current.status) ||
    current.identitySync !== undefined;
  const { leadId: _previousLead, identitySync: _previousSync, ...rest } = current;
  const leadId = input.leadId === undefined ? current.leadId : (input.leadId ?? undefined);
  const now = new Date().toISOString();
  const next: UserRecord = {
    ...rest,
    role: input.role ?? current.role,
    status: input.status ?? current.status,
    ...(leadId && { leadId }),
    touchedBy: touched(current, principal.userId, now),
    ...(syncCognito && { identitySync: "pending" as const }),
    version: current.version + 1,
    updatedAt: now,
  };
  const changed = (["role", "status", "leadId"] as const).filter((field) => input[field] !== undefined);
  await appendWithItems(
    approval?.entry ?? auditEntry(principal, request, "user.update", { type: "user", id: userId }, changed),
    [
      ...(approval?.items ?? []),
      versionedPut(userItem(next), current.version, directoryTable()),
      ...(syncCognito ? [pendingSyncItem(next)] : []),
    ],
  );
  // The change stands either way; if Cognito did not follow, the answer says so (202): the job retries,
  // or (`failed`) the operators were told that it never can.
  const outcome = syncCognito ? await followDirectory(next.orgId, next.userId) : "synced";
  if (outcome !== "synced") return { pending: true, user: view({ ...next, identitySync: outcome }, fields) };
  const { identitySync: _synced, ...synced } = next;
  return { pending: false, user: view(synced, fields) };
}

/**
 * Moves every client of a departing coach to another coach, one audited transaction per client; held for
 * a second person when the two-person rule says so (then all of them move at once, on approval).
 */
export async function reassignClients(
  principal: Principal,
  request: RequestMeta,
  fromId: string,
  toId: string,
  approval?: Approval,
) {
  requireOrgAction(principal, "user:manage");
  const [from, to] = [await getUser(principal.orgId, fromId), await getUser(principal.orgId, toId)];
  if (!from || !to) throw new NotFoundError();
  // Moving a coach's clients to that same coach changes nothing: refused, so it cannot be mistaken for a move.
  if (fromId === toId) throw new ValidationError([{ field: "body.toCoachId", rule: "other_than_user" }]);
  await requireAssignable(principal.orgId, toId, "body.toCoachId");
  if (approval?.change.change.op === "reassign") {
    const { clientIds } = approval.change.change;
    await moveAssignmentsApproved(principal, clientIds, fromId, toId, approval);
    return { moved: clientIds.length };
  }
  const clientIds = await assignedClientIds(principal.orgId, fromId);
  const held =
    clientIds.length > 0
      ? await holdIfSelfGranted(principal, request, { op: "reassign", fromId, toId, clientIds })
      : undefined;
  if (held) return held;
  for (const clientId of clientIds) await moveAssignment(principal, request, clientId, fromId, toId);
  return { moved: clientIds.length };
}
