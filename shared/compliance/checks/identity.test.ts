import { describe, expect, it } from "vitest";
import type { UserRecord } from "../../people";
import {
  disabledToRead,
  IDENTITY_RULES,
  identityMismatch,
  mfaFindings,
  uniquenessProblems,
} from "./identity";
import type { CognitoAccount } from "./org-data";

const now = new Date("2026-11-24T12:00:00.000Z");
const user = (userId: string, change: Partial<UserRecord> = {}): UserRecord => ({
  userId,
  username: userId,
  orgId: "org-a",
  email: `${userId}@example.test`,
  role: "coach",
  status: "active",
  version: 1,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  ...change,
});
const account = (change: Partial<Extract<CognitoAccount, { found: true }>> = {}): CognitoAccount => ({
  found: true,
  enabled: true,
  status: "CONFIRMED",
  mfa: ["SOFTWARE_TOKEN_MFA"],
  sub: "u1",
  orgId: "org-a",
  roles: ["coach"],
  ...change,
});

describe("identity.mfa-enrolled rule", () => {
  it("fails only on enabled accounts that have signed in without a second factor", () => {
    const users = ["a", "b", "c", "d", "e"].map((id) => user(id));
    const found = mfaFindings(users, [
      account(),
      account({ mfa: [] }),
      account({ mfa: [], status: "FORCE_CHANGE_PASSWORD" }),
      account({ mfa: [], enabled: false }),
      { found: false },
    ]);
    expect(found).toEqual({ enrolled: 1, awaitingFirstSignIn: 1, cannotSignIn: 2, notEnrolled: ["b"] });
  });
});

describe("identity.directory-matches-cognito rule", () => {
  it("names each way the two disagree, and leaves a recent pending sync alone", () => {
    expect(identityMismatch(user("u1"), account(), now)).toBeUndefined();
    expect(identityMismatch(user("u1", { status: "disabled" }), account(), now)).toBe("enabled");
    expect(identityMismatch(user("u1"), account({ enabled: false }), now)).toBe("disabled");
    expect(identityMismatch(user("u1"), account({ roles: ["coach", "admin"] }), now)).toBe("groups");
    expect(identityMismatch(user("u1"), { found: false }, now)).toBe("missing-account");
    expect(identityMismatch(user("u1", { status: "disabled" }), { found: false }, now)).toBeUndefined();
    const recent = new Date(now.getTime() - 60_000).toISOString();
    const pending = user("u1", { status: "disabled", identitySync: "pending", updatedAt: recent });
    expect(identityMismatch(pending, account(), now)).toBeUndefined();
    const old = new Date(now.getTime() - (IDENTITY_RULES.syncGraceMinutes + 1) * 60_000).toISOString();
    expect(identityMismatch({ ...pending, updatedAt: old }, account(), now)).toBe("enabled");
    expect(identityMismatch(user("u1", { identitySync: "pending", updatedAt: old }), account(), now)).toBe(
      "sync-overdue",
    );
  });

  it("reads changed and unverified disabled users, and a rotating few of the verified ones", () => {
    const disabled = ["a", "b", "c", "d"].map((id) => user(id, { status: "disabled" }));
    const first = disabledToRead(disabled, undefined, "2026-11-01T00:00:00.000Z", 1);
    expect(first.read.map((u) => u.userId)).toEqual(["a", "b", "c", "d"]);
    const carried = { verified: ["a", "b", "c", "d"], rotateAfter: "b" };
    const next = disabledToRead(disabled, carried, "2026-11-01T00:00:00.000Z", 1);
    expect(next.read.map((u) => u.userId)).toEqual(["c"]);
    const changed = disabled.map((u) =>
      u.userId === "a" ? { ...u, updatedAt: "2026-11-02T00:00:00.000Z" } : u,
    );
    const again = disabledToRead(changed, { ...carried, rotateAfter: "d" }, "2026-11-01T00:00:00.000Z", 1);
    expect(again.read.map((u) => u.userId)).toEqual(["a", "b"]);
  });
});

describe("identity.unique-users rule", () => {
  it("names directory entries sharing a sign-in or an address, and accounts of another user or org", () => {
    const users = [
      user("a"),
      user("b", { username: "a" }),
      user("c", { email: "A@example.test" }),
      user("d"),
      user("e"),
    ];
    const accounts = new Map<string, CognitoAccount>([
      ["d", account({ sub: "someone-else" })],
      ["e", account({ sub: "e", orgId: "org-b" })],
    ]);
    const found = uniquenessProblems("org-a", users, accounts);
    expect(found.shared.sort()).toEqual(["a", "b", "c"]);
    expect(found.foreign).toEqual(["d", "e"]);
  });
});
