import { AdminDeleteUserCommand } from "@aws-sdk/client-cognito-identity-provider";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { syncPending } from "../../functions/users/identity-sync.job";
import type { Role } from "../../shared/auth/roles";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { logger } from "../../shared/log";
import {
  cognitoUsername,
  getUser,
  listPendingIdentityWork,
  type UserRecord,
  userKey,
} from "../../shared/people";
import {
  arm,
  type Call,
  type CallTarget,
  disarm,
  type FaultKind,
  hasCondition,
  installFaultInjector,
  recorded,
  targetsOf,
} from "../support/faults";
import { invokeRoute } from "../support/invoke";
import { cognitoState, freshCoach, invite } from "../support/people";
import { testStack } from "../support/stack";

/**
 * The directory wins: `PATCH /users/{id}` commits the change (which the API acts on at once), then
 * Cognito follows. Whichever AWS call fails, the route answers 200, 202 (`identitySync: pending`), 409
 * or a retryable 503, never a 500; and once the scheduled identity sync has run, the directory and
 * Cognito agree: enabled exactly when active, in exactly the role's group, nothing left pending.
 */
const stack = testStack();
let admin: string;
let userId: string;

beforeAll(async () => {
  admin = await stack.token("admin@demo.example");
  const invited = await invite(stack.api, admin, { email: "sync.target@demo.example", role: "coach" });
  userId = invited.userId as string;
  installFaultInjector();
  await syncPending({ inviteGraceMs: 0 });
});

const current = async () => (await getUser("demo", userId)) as UserRecord;

async function expectAgreement() {
  const user = await current();
  expect(user.identitySync).toBeUndefined();
  expect(await cognitoState(cognitoUsername(user))).toMatchObject({
    enabled: user.status === "active",
    groups: [user.role],
  });
  const pending = await listPendingIdentityWork();
  expect(pending.filter((work) => work.kind === "user" && work.userId === userId)).toEqual([]);
}

/** The next change: flip the status and the role, so Cognito has groups and enablement to follow. */
const nextChange = (user: UserRecord) => ({
  version: user.version,
  status: user.status === "active" ? ("disabled" as const) : ("active" as const),
  role: (user.role === "coach" ? "coach_lead" : "coach") as Role,
});

const patch = (body: ReturnType<typeof nextChange>) =>
  invokeRoute("PATCH", `/users/${userId}`, { token: admin, body });

/** Cognito's first call in a PATCH, whichever it is (disable, or the group list when enabling). */
const firstCognitoCall = { service: "cognito", occurrence: 0 };

function faultsFor(call: Call): FaultKind[] {
  if (call.service === "cognito") return ["throttling", "server", "timeout"];
  return ["throttling", "timeout", ...(hasCondition(call) ? (["conditional"] as const) : [])];
}

describe("PATCH /users/{id} under faults", () => {
  it("never answers 500, and after the identity sync the directory and Cognito agree", async () => {
    // A first change warms this instance (its audit chain's head is read once, then remembered), so the
    // recorded run holds only the calls every change makes.
    expect((await patch(nextChange(await current()))).status).toBe(200);
    await syncPending();
    const first = nextChange(await current());
    arm();
    const clean = await patch(first);
    const calls = recorded().calls;
    disarm();
    expect(clean.status).toBe(200);
    expect(calls.filter((call) => call.service === "cognito").length).toBeGreaterThanOrEqual(4);
    const statuses = new Set<number>();
    const targets = targetsOf(calls);
    for (const [index, call] of calls.entries()) {
      for (const kind of faultsFor(call)) {
        // A change's calls depend on its direction (re-enabling asks whether the account has clients; Cognito
        // disables first and enables last): a call the next change does not make is failed in the one after.
        let fired = false;
        for (let attempt = 0; attempt < 2 && !fired; attempt++) {
          const body = nextChange(await current());
          arm({ target: targets[index] as CallTarget, kind });
          const res = await patch(body);
          fired = recorded().fired;
          disarm();
          statuses.add(res.status);
          expect([200, 202, 409, 503], `${call.service}:${call.operation} ${kind}`).toContain(res.status);
          if (res.status === 200 || res.status === 202) {
            // The directory has the change whatever Cognito did.
            expect(await current()).toMatchObject({ status: body.status, role: body.role });
            expect(res.json.identitySync).toBe(res.status === 202 ? "pending" : undefined);
          }
          await syncPending();
          await expectAgreement();
        }
        expect(
          fired,
          `${call.service}:${call.operation}#${targets[index]?.occurrence} ${kind} never made`,
        ).toBe(true);
      }
    }
    // Cognito failures are answered 202, not hidden and not 5xx.
    expect(statuses.has(202)).toBe(true);
  });

  it("a Cognito failure leaves the user pending; the next PATCH of that user applies the directory", async () => {
    await patch(nextChange(await current()));
    await syncPending();
    const user = await current();
    arm({ target: firstCognitoCall, kind: "throttling" });
    const res = await patch(nextChange(user));
    disarm();
    expect(res.status).toBe(202);
    const pending = await current();
    expect(pending.identitySync).toBe("pending");
    // Cognito is behind: the first of its calls (disable, or the group list when enabling) never ran.
    const behind = await cognitoState(cognitoUsername(pending));
    expect(behind.enabled === (pending.status === "active") && behind.groups.join() === pending.role).toBe(
      false,
    );
    // The same state again (nothing to change but the sync) is re-applied by the next PATCH.
    const again = await invokeRoute("PATCH", `/users/${userId}`, {
      token: admin,
      body: { version: pending.version, status: pending.status },
    });
    expect(again.status).toBe(200);
    await expectAgreement();
  });

  it("the identity sync job itself: each of its calls failing once, the next run still makes them agree", async () => {
    for (let index = 0; ; index++) {
      // Make the user pending: a PATCH whose first Cognito call is throttled.
      await patch(nextChange(await current()));
      await syncPending();
      arm({ target: firstCognitoCall, kind: "throttling" });
      expect((await patch(nextChange(await current()))).status).toBe(202);
      arm({ target: { index }, kind: index % 2 === 0 ? "throttling" : "timeout" });
      await syncPending().catch(() => undefined);
      const fired = recorded().fired;
      disarm();
      await syncPending();
      await expectAgreement();
      if (!fired) break;
    }
  });
});

describe("Cognito failures no retry can fix", () => {
  afterEach(() => vi.restoreAllMocks());

  const disable = async (id: string) =>
    invokeRoute("PATCH", `/users/${id}`, {
      token: admin,
      body: { version: (await getUser("demo", id))?.version, status: "disabled" },
    });
  const queued = async (id: string) =>
    (await listPendingIdentityWork()).filter((work) => work.kind === "user" && work.userId === id);

  it("a directory entry written before usernames were stored is addressed by its userId (the pool's username)", async () => {
    const id = await freshCoach(stack);
    await aws("dynamo").send(
      new UpdateCommand({
        TableName: getConfig().TABLE_DIRECTORY,
        Key: userKey("demo", id),
        UpdateExpression: "REMOVE username",
      }),
    );
    const res = await disable(id);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.identitySync).toBeUndefined();
    expect(await cognitoState(id)).toMatchObject({ enabled: false, groups: ["coach"] });
    expect(await queued(id)).toEqual([]);
  });

  it("an account gone from Cognito: marked failed once, with a security event; the job drops it and stays green", async () => {
    const id = await freshCoach(stack);
    const user = (await getUser("demo", id)) as UserRecord;
    await aws("cognito").send(
      new AdminDeleteUserCommand({ UserPoolId: getConfig().USER_POOL_ID, Username: cognitoUsername(user) }),
    );
    const warn = vi.spyOn(logger, "warn");
    const res = await disable(id);
    // The directory has the change (the API refuses the user from now on); Cognito never will.
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ userId: id, status: "disabled", identitySync: "failed" });
    expect(await getUser("demo", id)).toMatchObject({ status: "disabled", identitySync: "failed" });
    expect(await queued(id)).toEqual([]);
    const failures = () =>
      warn.mock.calls.filter(
        ([, fields]) => (fields as { securityEvent?: string })?.securityEvent === "IDENTITY_SYNC_FAILED",
      );
    expect(failures()).toHaveLength(1);
    expect(failures()[0]?.[1]).toMatchObject({
      orgId: "demo",
      userId: id,
      error: { name: "UserNotFoundException" },
    });
    await syncPending();
    await syncPending();
    expect(failures()).toHaveLength(1);
  });
});
