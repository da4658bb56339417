import type { UserRecord } from "../../people";
import { assignmentPrefix, recordsWithPrefix } from "../../store";
import { type CheckContext, type CheckDefinition, failed, notApplicable, passed, passIf } from "../check";
import {
  type CognitoAccount,
  cognitoAccounts,
  lastActionOf,
  mapBounded,
  orgUsers,
  someIds,
} from "./org-data";

/**
 * Checks over the org's people: the directory the API trusts (`shared/people/directory.ts`) held against
 * Cognito, which signs them in. Each reads the org's users once (shared with the other checks through
 * `context.memo`), so their cost grows with the org's people, not with its clients or its history.
 */

/** The bounds these checks hold the org to (data, not ifs). */
export const IDENTITY_RULES = {
  /** An active user with no audited action for this long (and an account at least this old) is inactive. */
  inactiveDays: 90,
  /** Active admins beyond this are too many: each can change who reaches PHI. */
  maxActiveAdmins: 5,
  /** A directory change Cognito has yet to follow (`identitySync: pending`) is in flight this long, then a mismatch. */
  syncGraceMinutes: 15,
  /** Disabled users verified by an earlier report that are re-read each report, in rotation. */
  disabledRecheckPerReport: 25,
} as const;

const DAY_MS = 86_400_000;
const active = (user: UserRecord) => user.status === "active";

/** What the MFA rule finds among active users and their Cognito accounts (same order). */
export function mfaFindings(users: readonly UserRecord[], accounts: readonly CognitoAccount[]) {
  const notEnrolled: string[] = [];
  let enrolled = 0;
  let awaitingFirstSignIn = 0;
  let cannotSignIn = 0;
  users.forEach((user, index) => {
    const account = accounts[index];
    if (!account?.found || !account.enabled) cannotSignIn++;
    else if (account.mfa.length > 0) enrolled++;
    // Never signed in: the first sign-in of a pool that requires MFA enrols a factor before any token.
    else if (account.status === "FORCE_CHANGE_PASSWORD") awaitingFirstSignIn++;
    else notEnrolled.push(user.userId);
  });
  return { enrolled, awaitingFirstSignIn, cannotSignIn, notEnrolled };
}

/** Why one directory user and its Cognito account disagree, or undefined when they agree (or a sync is in flight). */
export function identityMismatch(
  user: UserRecord,
  account: CognitoAccount,
  now: Date,
): "missing-account" | "enabled" | "disabled" | "groups" | "sync-overdue" | undefined {
  const pending =
    user.identitySync === "pending" &&
    now.getTime() - Date.parse(user.updatedAt) < IDENTITY_RULES.syncGraceMinutes * 60_000;
  if (pending) return undefined;
  if (!account.found) {
    // A disabled user whose account is gone cannot sign in: nothing to follow.
    return user.status === "active" ? "missing-account" : undefined;
  }
  if (user.status !== "active" && account.enabled) return "enabled";
  if (user.status === "active" && !account.enabled) return "disabled";
  if (account.roles.length !== 1 || account.roles[0] !== user.role) return "groups";
  if (user.identitySync === "pending") return "sync-overdue";
  return undefined;
}

/** Which users another directory entry or Cognito account duplicates or does not belong to. */
export function uniquenessProblems(
  orgId: string,
  users: readonly UserRecord[],
  accounts: ReadonlyMap<string, CognitoAccount>,
) {
  const byUsername = new Map<string, string[]>();
  const byEmail = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string, userId: string) =>
    map.set(key, [...(map.get(key) ?? []), userId]);
  for (const user of users) {
    add(byUsername, user.username ?? user.userId, user.userId);
    add(byEmail, user.email.trim().toLowerCase(), user.userId);
  }
  const shared = new Set(
    [...byUsername.values(), ...byEmail.values()].filter((ids) => ids.length > 1).flat(),
  );
  const foreign = users
    .filter((user) => {
      const account = accounts.get(user.userId);
      return account?.found && (account.sub !== user.userId || account.orgId !== orgId);
    })
    .map((user) => user.userId);
  return { shared: [...shared], foreign };
}

/** Disabled users verified earlier and unchanged since, and which of them to re-read this time (in rotation). */
type DisabledCarry = { verified: string[]; rotateAfter?: string };

function isDisabledCarry(value: unknown): value is DisabledCarry {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as DisabledCarry).verified) &&
    (value as DisabledCarry).verified.every((id) => typeof id === "string")
  );
}

/**
 * The disabled users a check reads this time: those changed in the period or never verified, and the next
 * `perReport` of the verified ones after `rotateAfter` (by id, wrapping round), so every one is re-read
 * within a bounded number of reports however many accumulate.
 */
export function disabledToRead(
  disabled: readonly UserRecord[],
  carried: unknown,
  periodFrom: string,
  perReport: number,
) {
  const carry = isDisabledCarry(carried) ? carried : { verified: [] };
  const verified = new Set(carry.verified);
  const fresh = disabled.filter((user) => !verified.has(user.userId) || user.updatedAt >= periodFrom);
  const settled = disabled
    .filter((user) => !fresh.includes(user))
    .sort((a, b) => a.userId.localeCompare(b.userId));
  const start = settled.findIndex(
    (user) => carry.rotateAfter === undefined || user.userId > carry.rotateAfter,
  );
  const rotated = start < 0 ? settled : [...settled.slice(start), ...settled.slice(0, start)];
  const recheck = rotated.slice(0, perReport);
  return { read: [...fresh, ...recheck], rotateAfter: recheck.at(-1)?.userId };
}

async function activeUsersWithAccounts(context: CheckContext) {
  const users = (await orgUsers(context)).filter(active);
  return { users, accounts: await cognitoAccounts(context, users) };
}

const MANAGE_PEOPLE =
  "an admin (PATCH /users/{userId}); a disabled user keeps no access, a role change takes effect on the next request";

export const identityChecks: readonly CheckDefinition[] = [
  {
    id: "identity.mfa-enrolled",
    title: "Every active user who can sign in has a second factor enrolled in Cognito",
    hipaa: "164.312(d)",
    layer: "application",
    severity: "critical",
    weight: 3,
    remediation:
      "Have each listed user enrol an authenticator (TOTP) at their next sign-in, or disable the account (PATCH /users/{userId} status disabled) until they do; keep the user pool's MFA required so no one signs in with a password alone.",
    evaluate: async (context) => {
      const { users, accounts } = await activeUsersWithAccounts(context);
      if (users.length === 0) return notApplicable("The org has no active users.");
      const found = mfaFindings(users, accounts);
      const evidence = {
        activeUsers: users.length,
        enrolled: found.enrolled,
        awaitingFirstSignIn: found.awaitingFirstSignIn,
        cannotSignIn: found.cannotSignIn,
        notEnrolledCount: found.notEnrolled.length,
        notEnrolled: someIds(found.notEnrolled),
        source: "cognito:AdminGetUser.UserMFASettingList",
      };
      return passIf(found.notEnrolled.length === 0, evidence);
    },
  },
  {
    id: "identity.inactive-users",
    title: `No active user has gone ${IDENTITY_RULES.inactiveDays} days without an audited action`,
    hipaa: "164.308(a)(3)(ii)(C)",
    layer: "application",
    severity: "medium",
    weight: 2,
    remediation: `Review each listed account with its manager and disable the ones no longer needed (${MANAGE_PEOPLE}).`,
    evaluate: async (context) => {
      const users = (await orgUsers(context)).filter(active);
      if (users.length === 0) return notApplicable("The org has no active users.");
      const threshold = new Date(context.now.getTime() - IDENTITY_RULES.inactiveDays * DAY_MS).toISOString();
      // Accounts younger than the threshold cannot have been idle that long; the others' last action is one
      // index read each (the byActor index, newest first), whatever the length of their history.
      const old = users.filter((user) => user.createdAt < threshold);
      const last = await mapBounded(old, 8, (user) =>
        lastActionOf(context.orgId, user.userId, context.now.toISOString()),
      );
      const inactive = old.filter((_, index) => (last[index] ?? "") < threshold).map((user) => user.userId);
      const evidence = {
        activeUsers: users.length,
        olderThanThreshold: old.length,
        thresholdDays: IDENTITY_RULES.inactiveDays,
        inactiveCount: inactive.length,
        inactive: someIds(inactive),
        source: "audit:byActor (last audited action)",
      };
      return passIf(inactive.length === 0, evidence);
    },
  },
  {
    id: "identity.directory-matches-cognito",
    title:
      "Cognito follows the user directory: disabled users are disabled, each account holds exactly its role's group",
    hipaa: "164.308(a)(4)(ii)(C)",
    layer: "application",
    severity: "high",
    weight: 3,
    remediation:
      "Re-apply each listed user's directory state to Cognito (the identity-sync job does it: run it, or PATCH /users/{userId} with the intended role and status); find out who changed Cognito outside the API (CloudTrail) when the directory was not the source.",
    evaluate: async (context) => {
      const users = await orgUsers(context);
      if (users.length === 0) return notApplicable("The org has no users.");
      const { read: disabled, rotateAfter } = disabledToRead(
        users.filter((user) => !active(user)),
        context.carried,
        context.period.from,
        IDENTITY_RULES.disabledRecheckPerReport,
      );
      const checked = [...users.filter(active), ...disabled];
      const accounts = await cognitoAccounts(context, checked);
      const problems = new Map<string, string[]>();
      checked.forEach((user, index) => {
        const problem = identityMismatch(user, accounts[index] as CognitoAccount, context.now);
        if (problem) problems.set(problem, [...(problems.get(problem) ?? []), user.userId]);
      });
      const mismatched = [...problems.values()].flat();
      const verified = disabled
        .filter((user) => !mismatched.includes(user.userId))
        .map((user) => user.userId);
      const previous = isDisabledCarry(context.carried) ? context.carried.verified : [];
      const stillDisabled = new Set(users.filter((user) => !active(user)).map((user) => user.userId));
      const carry: DisabledCarry = {
        verified: [...new Set([...previous, ...verified])].filter(
          (id) => stillDisabled.has(id) && !mismatched.includes(id),
        ),
        ...(rotateAfter && { rotateAfter }),
      };
      const evidence = {
        users: users.length,
        activeChecked: checked.length - disabled.length,
        disabledChecked: disabled.length,
        mismatchCount: mismatched.length,
        mismatched: someIds(mismatched),
        ...Object.fromEntries([...problems].map(([problem, ids]) => [problem, ids.length])),
      };
      return mismatched.length === 0 ? passed(evidence, carry) : failed(evidence, undefined, carry);
    },
  },
  {
    id: "identity.security-official",
    title: "The org has an active compliance officer (the assigned security official)",
    hipaa: "164.308(a)(2)",
    layer: "organizational",
    severity: "high",
    weight: 2,
    remediation:
      "Invite the org's security official as a compliance_officer (POST /users, an admin), or re-enable the one who was disabled.",
    evaluate: async (context) => {
      const officers = (await orgUsers(context)).filter(
        (user) => active(user) && user.role === "compliance_officer",
      );
      return passIf(officers.length > 0, {
        activeComplianceOfficers: officers.length,
        complianceOfficers: someIds(officers.map((user) => user.userId)),
      });
    },
  },
  {
    id: "identity.admins-few",
    title: `At most ${IDENTITY_RULES.maxActiveAdmins} active admins`,
    hipaa: "164.308(a)(4)(ii)(B)",
    layer: "application",
    severity: "medium",
    weight: 1,
    remediation:
      "Give admin only to the people who manage accounts and settings; change the others' role (PATCH /users/{userId}). Each admin can change who reaches PHI.",
    evaluate: async (context) => {
      const admins = (await orgUsers(context)).filter((user) => active(user) && user.role === "admin");
      return passIf(admins.length <= IDENTITY_RULES.maxActiveAdmins, {
        activeAdmins: admins.length,
        bound: IDENTITY_RULES.maxActiveAdmins,
        admins: someIds(admins.map((user) => user.userId)),
      });
    },
  },
  {
    id: "identity.unique-users",
    title: "Each user is one person with one account: no shared sign-in, no account of another org",
    hipaa: "164.312(a)(2)(i)",
    layer: "application",
    severity: "high",
    weight: 2,
    remediation:
      "Give each person their own account: disable the listed duplicates (PATCH /users/{userId}) and find out which directory entry was written outside the API.",
    evaluate: async (context) => {
      const users = await orgUsers(context);
      if (users.length === 0) return notApplicable("The org has no users.");
      const { users: activeUsers, accounts } = await activeUsersWithAccounts(context);
      const byUser = new Map(
        activeUsers.map((user, index) => [user.userId, accounts[index] as CognitoAccount]),
      );
      const { shared, foreign } = uniquenessProblems(context.orgId, users, byUser);
      return passIf(shared.length + foreign.length === 0, {
        users: users.length,
        accountsChecked: activeUsers.length,
        sharedCount: shared.length,
        shared: someIds(shared),
        foreignCount: foreign.length,
        foreign: someIds(foreign),
      });
    },
  },
  {
    id: "identity.terminated-access-removed",
    title: "No disabled user is still assigned as a client's coach",
    hipaa: "164.308(a)(3)(ii)(C)",
    layer: "application",
    severity: "high",
    weight: 2,
    remediation:
      "Reassign the listed disabled users' clients to active coaches (POST /users/{userId}/reassign, an admin), so no terminated account remains on a client's care team.",
    evaluate: async (context) => {
      const users = await orgUsers(context);
      // Assigning a disabled user is refused, so one verified without assignments stays so until it changes.
      const { read, rotateAfter } = disabledToRead(
        users.filter((user) => !active(user)),
        context.carried,
        context.period.from,
        IDENTITY_RULES.disabledRecheckPerReport,
      );
      const assigned = await mapBounded(read, 8, async (user) => {
        const items = await recordsWithPrefix<{ clientId: string }>(
          context.orgId,
          assignmentPrefix(user.userId),
        );
        return items.length;
      });
      const still = read.filter((_, index) => (assigned[index] ?? 0) > 0).map((user) => user.userId);
      const previous = isDisabledCarry(context.carried) ? context.carried.verified : [];
      const disabledIds = new Set(users.filter((user) => !active(user)).map((user) => user.userId));
      const carry: DisabledCarry = {
        verified: [...new Set([...previous, ...read.map((user) => user.userId)])].filter(
          (id) => disabledIds.has(id) && !still.includes(id),
        ),
        ...(rotateAfter && { rotateAfter }),
      };
      const evidence = {
        disabledUsers: disabledIds.size,
        disabledChecked: read.length,
        stillAssignedCount: still.length,
        stillAssigned: someIds(still),
      };
      return still.length === 0 ? passed(evidence, carry) : failed(evidence, undefined, carry);
    },
  },
];
