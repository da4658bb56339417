import { beforeAll, describe, expect, it } from "vitest";
import { readOrgChains } from "../../shared/audit";
import { listUsers } from "../../shared/people";
import { arm, disarm, installFaultInjector, recorded } from "../support/faults";
import { invokeRoute } from "../support/invoke";
import { cognitoState, secondAdminToken, settledInvitation } from "../support/people";
import { testStack } from "../support/stack";

/**
 * All orgs share one user pool, so an invitation must not tell an admin, when they make it, whether an
 * address has an account in another org: an unused address and another org's user get the same answer
 * (status, body shape) after the same work in the request. The later outcome may differ (the second
 * fails, out of band, without a reason; nothing of the other org changes): that remaining signal, and why
 * only a pool per org would remove it, is in the README (People and identity).
 */
const stack = testStack();
const { api } = stack;
let admin: string;

beforeAll(async () => {
  admin = await stack.token("admin@demo.example");
  installFaultInjector();
});

const otherCoach = () => stack.users.find((user) => user.email === "coach@other.example");

/** Everything of org `other` an invitation could touch: its directory, its audit chains, the account. */
async function otherOrgSnapshot() {
  const chains = await readOrgChains("other");
  return {
    directory: await listUsers("other"),
    auditEntries: chains.reduce((n, chain) => n + chain.length, 0),
    account: await cognitoState(otherCoach()?.username as string),
  };
}

const shape = (body: Record<string, unknown>) => Object.keys(body).sort();

describe("invitations do not reveal accounts of other orgs", () => {
  it("an unused address and another org's user get the same answer at request time; later only the latter fails, without a reason, and the other org is untouched", async () => {
    const before = await otherOrgSnapshot();
    const unused = await api("POST", "/users", {
      token: admin,
      body: { email: `unused.${Date.now()}@demo.example`, role: "coach" },
    });
    const taken = await api("POST", "/users", {
      token: admin,
      body: { email: "coach@other.example", role: "coach" },
    });
    expect(taken.status).toBe(unused.status);
    expect(unused.status).toBe(202);
    expect(shape(taken.json)).toEqual(shape(unused.json));
    expect(taken.json.status).toBe("pending");
    expect(unused.json.status).toBe("pending");

    const sent = await settledInvitation(api, admin, unused.json.inviteId);
    const failed = await settledInvitation(api, admin, taken.json.inviteId);
    expect(sent).toMatchObject({ status: "sent", userId: expect.any(String) });
    expect(failed.status).toBe("failed");
    // A failed invitation looks exactly like a pending one: no account id, no reason of any kind.
    expect(shape(failed)).toEqual(shape(taken.json));
    const { email: _address, ...rest } = failed;
    expect(JSON.stringify(rest)).not.toMatch(/exist|other|reason|elsewhere|org/i);

    expect(await otherOrgSnapshot()).toEqual(before);
    expect((await listUsers("demo")).map((user) => user.email)).not.toContain("coach@other.example");
  });

  it("both do the same work in the request (the same AWS calls, in the same order); the difference comes later, out of band", async () => {
    const work = async (email: string) => {
      arm();
      const res = await invokeRoute("POST", "/users", { token: admin, body: { email, role: "coach" } });
      const calls = recorded().calls;
      disarm();
      expect(res.status).toBe(202);
      await settledInvitation(api, admin, res.json.inviteId);
      // An audit append may read a chain head or retry when another writer moved the chain: not the
      // request's work, so collapse it.
      return calls
        .filter(
          (call) =>
            !(call.operation === "QueryCommand" && call.input.TableName === stack.endpoints.tables.audit),
        )
        .map((call) => `${call.service}:${call.operation}`)
        .filter((operation, index, all) => operation !== all[index - 1]);
    };
    await work(`warmup.${Date.now()}@demo.example`);
    const unused = await work(`unused.work.${Date.now()}@demo.example`);
    const taken = await work("coach@other.example");
    expect(taken).toEqual(unused);
    expect(unused).not.toContain("cognito:AdminCreateUserCommand");
    expect(unused.at(-1)).toBe("lambda:InvokeCommand");
  });

  it("an address already in the admin's own org is refused at once (case-insensitively)", async () => {
    for (const email of ["coach1@demo.example", "COACH1@Demo.Example"]) {
      const res = await api("POST", "/users", { token: admin, body: { email, role: "coach" } });
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe("USER_EXISTS");
    }
  });

  it("admins list their own org's invitations only, newest first, paged", async () => {
    const otherAdmin = await stack.token("admin@other.example");
    const mine = (await api("GET", "/users/invites", { token: admin })).json.items;
    const theirs = (await api("GET", "/users/invites", { token: otherAdmin })).json.items;
    const ids = new Set(mine.map((item: { inviteId: string }) => item.inviteId));
    expect(theirs.some((item: { inviteId: string }) => ids.has(item.inviteId))).toBe(false);
    const created = mine.map((item: { createdAt: string }) => item.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    const first = await api("GET", "/users/invites?limit=1", { token: admin });
    expect(first.json.items).toHaveLength(1);
    const cursor = encodeURIComponent(first.json.nextCursor);
    const second = await api("GET", `/users/invites?limit=1&cursor=${cursor}`, { token: admin });
    expect(second.json.items[0].inviteId).toBe(mine[1].inviteId);
    // The cursor is sealed to its caller and list: another admin of the same org cannot use it.
    const secondAdmin = await secondAdminToken(stack);
    expect((await api("GET", `/users/invites?limit=1&cursor=${cursor}`, { token: secondAdmin })).status).toBe(
      400,
    );
    expect(
      (await api("GET", "/users/invites", { token: await stack.token("lead@demo.example") })).status,
    ).toBe(403);
  });
});
