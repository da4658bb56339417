import { beforeAll, describe, expect, it } from "vitest";
import { routeList } from "../../functions/routes";
import { phiFieldsIn, queryEntries } from "../../shared/audit";
import {
  FIXTURE_PHI,
  type Fixture,
  type RouteRequest,
  richFixture,
  routeRequests,
} from "../support/route-requests";
import { testStack } from "../support/stack";

/**
 * Generated from the manifest: for every route, a request that succeeds; the audit entry it committed
 * (found by its request id) names exactly the PHI fields the response carried plus those the request
 * wrote, as the route's `phi` declaration maps them. A route whose answer carries a fixture's PHI value
 * without declaring `phi.discloses` fails too, so a new route cannot slip past unaudited.
 */
const stack = testStack();
const { api } = stack;
const REQUESTS = routeRequests();

async function entryFor(email: string, requestId: string) {
  const user = stack.users.find((u) => u.email === email);
  const [actorId, orgId] = [user?.userId as string, user?.orgId as string];
  const page = await queryEntries(orgId, { actorId, limit: 100 });
  return page.items.map((found) => found.entry).filter((entry) => entry?.requestId === requestId);
}

let f: Fixture;
beforeAll(async () => {
  f = await richFixture(stack, { heldChanges: true, verificationJob: true });
});

describe("audit entries name exactly the PHI disclosed and written", () => {
  it("has a request for every route in the manifest", () => {
    expect(routeList.map((route) => route.id).filter((id) => !REQUESTS[id])).toEqual([]);
  });

  for (const route of routeList) {
    it(`${route.method} ${route.path}`, async () => {
      for (const request of (REQUESTS[route.id] as (f: Fixture) => RouteRequest[])(f)) {
        const res = await api(route.method, request.path, {
          token: await stack.token(request.as),
          ...(request.body !== undefined && { body: request.body }),
        });
        expect(res.status, `${request.as}: ${res.text.slice(0, 200)}`).toBeLessThan(300);
        if (!route.phi?.discloses) {
          for (const value of FIXTURE_PHI)
            expect(res.text, `${route.id} answers PHI but declares no phi.discloses`).not.toContain(value);
        }
        const expected = [
          ...new Set([
            ...phiFieldsIn(route.phi?.writes, request.body),
            ...phiFieldsIn(route.phi?.discloses, res.json),
          ]),
        ].sort();
        if (!route.phi) continue;
        const entries = await entryFor(request.as, String(res.headers["x-request-id"]));
        if (expected.length === 0) {
          expect(
            entries.flatMap((entry) => entry?.fields ?? []),
            `${request.as}`,
          ).toEqual([]);
          continue;
        }
        expect(entries, `${request.as}: one audit entry for the request`).toHaveLength(1);
        expect(entries[0]?.fields, `${request.as}`).toEqual(expected);
      }
    });
  }
});
