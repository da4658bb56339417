import type * as z from "zod";
import { type Approval, holdIfSelfGranted } from "../../shared/access";
import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import { type Principal, pick, requireOrgAction } from "../../shared/auth";

import { getConfig } from "../../shared/config";
import { ConflictError, NotFoundError, ValidationError } from "../../shared/errors";
import {
  changeRole,
  createAccount,
  deleteAccount,
  getUser,
  listUsers,
  orgRegistryItem,
  setEnabled,
  touched,
  type UserRecord,
  userItem,
} from "../../shared/people";
import { versionedPut } from "../../shared/store";
import {
  assignedClientIds,
  moveAssignment,
  moveAssignmentsApproved,
  requireAssignable,
} from "../assignments/service";
import type { InviteUserSchema, UpdateUserSchema } from "./schema";

/** People and teams: admins invite users, change roles, disable and re-enable them, and set teams. */
const view = (user: UserRecord, fields: ReadonlySet<string>) =>
  pick(user as unknown as Record<string, unknown>, fields);

async function requireLead(orgId: string, leadId: string | undefined | null) {
  if (!leadId) return;
  const lead = await getUser(orgId, leadId);
  if (lead?.role !== "coach_lead" || lead.status !== "active") {
    throw new ValidationError([{ field: "body.leadId", rule: "active_coach_lead" }]);
  }
}

export async function inviteUser(
  principal: Principal,
  request: RequestMeta,
  input: z.infer<typeof InviteUserSchema>,
) {
  const fields = requireOrgAction(principal, "user:manage");
  await requireLead(principal.orgId, input.leadId);
  const userId = await createAccount(input.email, principal.orgId, input.role);
  const now = new Date().toISOString();
  const user: UserRecord = {
    userId,
    orgId: principal.orgId,
    email: input.email,
    role: input.role,
    status: "active",
    ...(input.leadId && { leadId: input.leadId }),
    touchedBy: touched({}, principal.userId, now),
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await appendWithItems(
      auditEntry(principal, request, "user.invite", { type: "user", id: userId }, [
        "email",
        "role",
        "leadId",
      ]),
      [
        {
          item: {
            Put: {
              TableName: getConfig().TABLE_RECORDS,
              Item: userItem(user),
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
        },
        { item: { Put: { TableName: getConfig().TABLE_RECORDS, Item: orgRegistryItem(principal.orgId) } } },
      ],
    );
  } catch (error) {
    // No directory entry, no account: never leave a user who can sign in but is unknown to the API.
    await deleteAccount(input.email);
    throw error;
  }
  return view(user, fields);
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
  if (input.role && input.role !== current.role) await changeRole(current.email, current.role, input.role);
  if (input.status && input.status !== current.status)
    await setEnabled(current.email, input.status === "active");
  const { leadId: _previousLead, ...rest } = current;
  const leadId = input.leadId === undefined ? current.leadId : (input.leadId ?? undefined);
  const now = new Date().toISOString();
  const next: UserRecord = {
    ...rest,
    role: input.role ?? current.role,
    status: input.status ?? current.status,
    ...(leadId && { leadId }),
    touchedBy: touched(current, principal.userId, now),
    version: current.version + 1,
    updatedAt: now,
  };
  const changed = (["role", "status", "leadId"] as const).filter((field) => input[field] !== undefined);
  await appendWithItems(
    approval?.entry ?? auditEntry(principal, request, "user.update", { type: "user", id: userId }, changed),
    [...(approval?.items ?? []), versionedPut(userItem(next), current.version)],
  );
  return view(next, fields);
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
