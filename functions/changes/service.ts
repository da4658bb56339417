import {
  type Approval,
  ChangeExpiredError,
  ChangeNotPendingError,
  ChangeStaleError,
  changedFields,
  decisionItem,
  type HeldChange,
  loadChange,
  type Operation,
  pendingChanges,
  requireSecondPerson,
  viewOf,
} from "../../shared/access";
import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import { type Principal, pick, requireOrgAction } from "../../shared/auth";
import { AppError, NotFoundError } from "../../shared/errors";
import { logger } from "../../shared/log";
import { getUser } from "../../shared/people";
import { assignCoach } from "../assignments/service";
import { reassignClients, updateUser } from "../users/service";

/**
 * Changes held by the two-person rule (shared/access/two-person.ts): admins and leads list them, and
 * another person approves (which applies the change) or rejects them. Deciding is audited and alarmed.
 */
type OperationOf<O extends Operation["op"]> = Extract<Operation, { op: O }>;
type Apply<O extends Operation["op"]> = (
  requester: Principal,
  request: RequestMeta,
  change: OperationOf<O>,
  approval: Approval,
) => Promise<unknown>;

/**
 * How each held operation is applied: by the service that makes it, as its requester (whose authority is
 * checked again), with the approval's item and audit entry in the same transaction.
 */
const APPLY: { [O in Operation["op"]]: Apply<O> } = {
  assign: (requester, request, change, approval) =>
    assignCoach(requester, request, change.clientId, change.coachId, approval),
  reassign: (requester, request, change, approval) =>
    reassignClients(requester, request, change.fromId, change.toId, approval),
  updateUser: (requester, request, { op: _op, userId, ...input }, approval) =>
    updateUser(requester, request, userId, input, approval),
};

/** The clients an approval gives access to: its audit entry names them (each client's accounting lists it). */
function subjects(change: Operation) {
  if (change.op === "assign") return { clientId: change.clientId };
  if (change.op === "reassign") return { clientIds: change.clientIds };
  return {};
}

export async function listChanges(principal: Principal) {
  const fields = requireOrgAction(principal, "change:list");
  const changes = await pendingChanges(principal.orgId);
  return { items: changes.map((change) => pick(viewOf(change), fields)) };
}

/**
 * A change the caller may decide now (pending, unexpired, and the caller a second person: see
 * `requireSecondPerson`), and the fields of it they may see.
 */
async function decidable(principal: Principal, changeId: string) {
  const fields = requireOrgAction(principal, "change:decide");
  const change = await loadChange(principal.orgId, changeId);
  if (!change) throw new NotFoundError();
  await requireSecondPerson(principal.orgId, principal.userId, change);
  if (change.status !== "pending") throw new ChangeNotPendingError();
  if (change.expiresAt <= new Date().toISOString()) throw new ChangeExpiredError();
  return { change, fields };
}

const securityEvent = (
  message: string,
  name: "PHI_GRANT_APPROVED" | "PHI_GRANT_REJECTED",
  change: HeldChange,
  deciderId: string,
) =>
  logger.warn(message, {
    securityEvent: name,
    changeId: change.changeId,
    kind: change.kind,
    requesterId: change.requesterId,
    granteeIds: change.granteeIds,
    deciderId,
  });

/**
 * Applies a held change in one transaction with its approval and the approval's audit entry. Everything
 * is checked again first: the requester is still an active admin, the client and accounts still exist
 * and qualify. A change that no longer applies answers 409 `CHANGE_STALE`; a concurrent decision or
 * change of the same records answers 409 and applies nothing.
 */
export async function approveChange(principal: Principal, request: RequestMeta, changeId: string) {
  const { change, fields } = await decidable(principal, changeId);
  const requesterUser = await getUser(principal.orgId, change.requesterId);
  if (requesterUser?.status !== "active") throw new ChangeStaleError();
  const requester: Principal = {
    userId: requesterUser.userId,
    orgId: principal.orgId,
    role: requesterUser.role,
  };
  const decidedAt = new Date().toISOString();
  const approval: Approval = {
    change,
    entry: auditEntry(
      principal,
      request,
      "change.approve",
      { type: "change", id: changeId, ...subjects(change.change) },
      changedFields(change.change),
    ),
    items: [decisionItem(change, "approved", principal.userId, decidedAt)],
  };
  const apply = APPLY[change.change.op] as Apply<Operation["op"]>;
  try {
    await apply(requester, request, change.change, approval);
  } catch (error) {
    // The requester lost the right, or an account or client no longer qualifies: the change is stale.
    if (error instanceof AppError && ["invalid", "not_found", "forbidden"].includes(error.kind)) {
      throw new ChangeStaleError({ cause: error });
    }
    throw error;
  }
  securityEvent("held PHI grant approved and applied", "PHI_GRANT_APPROVED", change, principal.userId);
  return pick(viewOf({ ...change, status: "approved", decidedBy: principal.userId, decidedAt }), fields);
}

export async function rejectChange(principal: Principal, request: RequestMeta, changeId: string) {
  const { change, fields } = await decidable(principal, changeId);
  const decidedAt = new Date().toISOString();
  await appendWithItems(
    auditEntry(
      principal,
      request,
      "change.reject",
      { type: "change", id: changeId },
      changedFields(change.change),
    ),
    [decisionItem(change, "rejected", principal.userId, decidedAt)],
  );
  securityEvent("held PHI grant rejected", "PHI_GRANT_REJECTED", change, principal.userId);
  return pick(viewOf({ ...change, status: "rejected", decidedBy: principal.userId, decidedAt }), fields);
}
