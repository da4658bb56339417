import type { Action, Relationship } from "../auth/policy";
import { decide } from "../auth/policy";
import type { Principal } from "../auth/principal";
import { ForbiddenError, NotFoundError } from "../errors";
import { teamOf } from "../people";
import { type ClientRecord, loadClient } from "../store/client-record";
import { activeGrant } from "./break-glass";

export {
  activeGrant,
  type BreakGlassGrant,
  GRANT_RECORD_PREFIX,
  type GrantReviewRecord,
  grantKey,
  grantRecordKey,
  isActive,
} from "./break-glass";

/**
 * Access to one client's data: loads the client, works out every relationship the caller holds to it,
 * and asks the policy. The first relationship that allows the action wins, in the order below, so an
 * active break-glass grant is used (and marked) only when the caller's ordinary relationship falls short.
 */
export type ClientAccess = {
  client: ClientRecord;
  relationship: Relationship;
  fields: ReadonlySet<string>;
  breakGlass: boolean;
};

/**
 * The relationships a caller holds to a client (`none` always last). `team`, the coaches the caller
 * leads, can be passed in when many clients are checked at once, so it is read once, not per client.
 */
export async function relationshipsTo(
  principal: Principal,
  client: ClientRecord,
  team?: ReadonlySet<string>,
): Promise<Relationship[]> {
  const held: Relationship[] = [];
  if (client.coaches.includes(principal.userId)) held.push("assigned");
  if (principal.role === "coach_lead" && client.coaches.length > 0) {
    const led = team ?? (await teamOf(principal.orgId, principal.userId));
    if (client.coaches.some((coachId) => led.has(coachId))) held.push("lead_of_assigned");
  }
  held.push("none");
  return held;
}

/**
 * Throws NotFoundError when the caller may not know the client exists (another org, or no
 * relationship that allows anything), ForbiddenError when they may see it but not do this.
 */
export async function accessClient(
  principal: Principal,
  clientId: string,
  action: Action,
): Promise<ClientAccess> {
  const client = await loadClient(principal.orgId, clientId);
  if (!client) throw new NotFoundError();
  const held = await relationshipsTo(principal, client);
  const ordinary = held
    .map((relationship) => ({ relationship, decision: decide(principal, action, relationship) }))
    .find(({ decision }) => decision.allow);
  const ordinaryFields = ordinary?.decision.allow ? ordinary.decision.fields : new Set<string>();
  const emergency = decide(principal, action, "break_glass");
  const emergencyAddsFields =
    emergency.allow && [...emergency.fields].some((field) => !ordinaryFields.has(field));
  if (emergencyAddsFields && (await activeGrant(principal.orgId, clientId, principal.userId))) {
    return { client, relationship: "break_glass", fields: emergency.fields, breakGlass: true };
  }
  if (ordinary?.decision.allow) {
    return {
      client,
      relationship: ordinary.relationship,
      fields: ordinary.decision.fields,
      breakGlass: false,
    };
  }
  // Denied: a caller who may read the client (ordinarily, or under an active grant) learns only that
  // this is not allowed (403); anyone else cannot tell it from a client that does not exist (404).
  const mayKnow =
    held.some((relationship) => decide(principal, "client:read", relationship).allow) ||
    (decide(principal, "client:read", "break_glass").allow &&
      Boolean(await activeGrant(principal.orgId, clientId, principal.userId)));
  throw mayKnow ? new ForbiddenError() : new NotFoundError();
}
export {
  CONSENT_REQUIRED,
  type ConsentRecord,
  consentKey,
  consentsOf,
  PURPOSES,
  type Purpose,
  requireConsent,
} from "./consent";
export {
  AccountDisabledError,
  ChangeExpiredError,
  ChangeNotPendingError,
  ChangeStaleError,
  ChangeTooLargeError,
  ConsentRequiredError,
  SecondPersonRequiredError,
} from "./errors";
export {
  type Approval,
  type ChangeStatus,
  changedFields,
  changeKey,
  circleOf,
  decisionItem,
  type Grant,
  type GrantFacts,
  type GrantKind,
  grantsOf,
  HELD_CHANGE_PARTITION_PATTERN,
  type HeldChange,
  type HeldChangeView,
  holdIfSelfGranted,
  isHeld,
  loadChange,
  MAX_HELD_CLIENTS,
  type Operation,
  PHI_GRANTS,
  pendingChanges,
  requireIndependentOf,
  requireSecondPerson,
  viewOf,
  windowStart,
} from "./two-person";
