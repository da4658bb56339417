import { beforeAll, describe, expect, it } from "vitest";
import { syncPending } from "../../functions/users/identity-sync.job";
import type { Role } from "../../shared/auth/roles";
import { getUser, listPendingIdentityWork, type UserRecord } from "../../shared/people";
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
import { cognitoState, invite, jobInvocation } from "../support/people";
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
  await syncPending(jobInvocation("identitySync"), { inviteGraceMs: 0 });
});

const current = async () => (await getUser("demo", userId)) as UserRecord;

async function expectAgreement() {
  const user = await current();
  expect(user.identitySync).toBeUndefined();
  expect(await cognitoState(user.username)).toMatchObject({
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

function faultsFor(call: Call): FaultKind[] {
  if (call.service === "cognito") return ["throttling", "server", "timeout"];
  return ["throttling", "timeout", ...(hasCondition(call) ? (["conditional"] as const) : [])];
}

describe("PATCH /users/{id} under faults", () => {
  it("never answers 500, and after the identity sync the directory and Cognito agree", async () => {
    arm();
    const clean = await patch(nextChange(await current()));
    const calls = recorded().calls;
    disarm();
    expect(clean.status).toBe(200);
    expect(calls.filter((call) => call.service === "cognito").length).toBeGreaterThanOrEqual(4);
    const statuses = new Set<number>();
    // Each call as the n-th of its operation: a run that reads a chain's head the clean run did not (another
    // writer moved its chain) must not shift the fault onto another kind of call.
    const targets = targetsOf(calls);
    for (const [index, call] of calls.entries()) {
      for (const kind of faultsFor(call)) {
        const before = await current();
        const body = nextChange(before);
        arm({ target: targets[index] as CallTarget, kind });
        const res = await patch(body);
        disarm();
        statuses.add(res.status);
        expect([200, 202, 409, 503], `${call.service}:${call.operation} ${kind}`).toContain(res.status);
        if (res.status === 200 || res.status === 202) {
          // The directory has the change whatever Cognito did.
          expect(await current()).toMatchObject({ status: body.status, role: body.role });
          expect(res.json.identitySync).toBe(res.status === 202 ? "pending" : undefined);
        }
        await syncPending(jobInvocation("identitySync"));
        await expectAgreement();
      }
    }
    // Cognito failures are answered 202, not hidden and not 5xx.
    expect(statuses.has(202)).toBe(true);
  });

  it("a Cognito failure leaves the user pending; the next PATCH of that user applies the directory", async () => {
    const before = await current();
    const body = nextChange(before);
    arm();
    await patch(body);
    const firstCognito = recorded().calls.findIndex((call) => call.service === "cognito");
    disarm();
    await syncPending(jobInvocation("identitySync"));
    const user = await current();
    arm({ target: { index: firstCognito }, kind: "throttling" });
    const res = await patch(nextChange(user));
    disarm();
    expect(res.status).toBe(202);
    const pending = await current();
    expect(pending.identitySync).toBe("pending");
    // Cognito is behind: the first of its calls (disable, or the group list when enabling) never ran.
    const behind = await cognitoState(pending.username);
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
      const user = await current();
      // Make the user pending: a PATCH whose first Cognito call is throttled.
      arm();
      await patch(nextChange(user));
      const firstCognito = recorded().calls.findIndex((call) => call.service === "cognito");
      disarm();
      await syncPending(jobInvocation("identitySync"));
      arm({ target: { index: firstCognito }, kind: "throttling" });
      expect((await patch(nextChange(await current()))).status).toBe(202);
      arm({ target: { index }, kind: index % 2 === 0 ? "throttling" : "timeout" });
      await syncPending(jobInvocation("identitySync")).catch(() => undefined);
      const fired = recorded().fired;
      disarm();
      await syncPending(jobInvocation("identitySync"));
      await expectAgreement();
      if (!fired) break;
    }
  });
});
