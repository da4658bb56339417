import { beforeAll, describe, expect, it } from "vitest";
import { routeList } from "../../functions/routes";
import { forgetChainPositions, verifyOrg } from "../../shared/audit";
import { forgetDataKey } from "../../shared/crypto";
import { forgetBucketHints } from "../../shared/protection";
import { forgetCachedSettings } from "../../shared/settings";
import {
  arm,
  type Call,
  type CallTarget,
  disarm,
  type FaultKind,
  hasCondition,
  installFaultInjector,
  recorded,
  type Target,
  targetsOf,
} from "../support/faults";
import { invokeRoute } from "../support/invoke";
import { type Fixture, type RouteRequest, richFixture, routeRequests } from "../support/route-requests";
import { clearLimiterState } from "../support/settings";
import { testStack } from "../support/stack";
import { audited, dataOf, inconsistencies, partialClients, type Scope, stateOf } from "./state";

/**
 * Fault injection, generated from the manifest: for every mutating route, each AWS call it makes fails
 * once — throttled, a 500, a lost answer after the call took effect, a failed condition where the call
 * has one — on a fresh fixture. The route must answer a clear 4xx or a retryable 503 (never a 500), and
 * leave either nothing changed or a complete, audited change: no PHI without its audit entry, no object
 * without its record, no record pointing at a missing object, no assignment without its client entry,
 * no half-created client. A request that failed without changing anything must then succeed when
 * retried (no consumed version).
 */
const stack = testStack();
const REQUESTS = routeRequests();
const ORG = "demo";
const KINDS: readonly FaultKind[] = ["throttling", "server", "conditional", "timeout"];
const MUTATING = routeList.filter((route) => route.method !== "GET");
const idOf = (email: string) => stack.users.find((u) => u.email === email)?.userId as string;

type Case = { route: (typeof routeList)[number]; fixture: Fixture; request: RouteRequest; scope: Scope };

/** A fresh fixture and the route's request against it (built once, so a retry sends the same body). */
async function newCase(route: (typeof routeList)[number]): Promise<Case> {
  const fixture = await richFixture(stack, { heldChanges: route.path.startsWith("/changes/") });
  const request = (REQUESTS[route.id] as (f: Fixture) => RouteRequest[])(fixture)[0] as RouteRequest;
  const body = request.body as { email?: string } | undefined;
  const scope: Scope = {
    orgId: ORG,
    clientId: fixture.clientId,
    userIds: [fixture.userId, fixture.coachId],
    changeIds: fixture.changeIds,
    ...(body?.email && { inviteEmail: body.email }),
  };
  return { route, fixture, request, scope };
}

/** Sends the case's request in-process, recording its AWS calls (and failing one, if asked). */
async function send(c: Case, fault?: { target: Target; kind: FaultKind }) {
  const token = await stack.token(c.request.as);
  // Every run starts cold — the data key and the org's settings not cached in this process, no remembered
  // chain head or bucket, and the org's buckets idle (the fixture's own requests, made through the stack,
  // may have left a bucket in use, which costs the limiter a second write) — so it makes the same calls as
  // the baseline did.
  forgetDataKey({ orgId: ORG, clientId: c.fixture.clientId });
  forgetChainPositions();
  forgetCachedSettings();
  forgetBucketHints();
  await clearLimiterState(ORG);
  arm(fault);
  try {
    const res = await invokeRoute(c.route.method, c.request.path, {
      token,
      ...(c.request.body !== undefined && { body: c.request.body }),
    });
    return { res, ...recorded() };
  } finally {
    disarm();
  }
}

/** One faulted run on a fresh fixture, then a retry; the problems found (empty when all held). */
async function faultedRun(route: (typeof routeList)[number], target: CallTarget, kind: FaultKind) {
  const at = `${target.service}:${target.operation}#${target.occurrence} ${kind}`;
  const c = await newCase(route);
  const since = new Date().toISOString();
  const before = await stateOf(c.scope);
  const { res, fired } = await send(c, { target, kind });
  if (!fired) return [`${at}: the targeted call was not made`];
  const problems: string[] = [];
  if (res.status >= 500 && res.status !== 503)
    problems.push(`${at}: answered ${res.status} ${res.json?.error?.code}`);
  const after = await stateOf(c.scope);
  problems.push(...inconsistencies(after).map((problem) => `${at}: ${problem}`));
  problems.push(...(await partialClients(ORG, idOf("coach1@demo.example"), since)).map((p) => `${at}: ${p}`));
  const changed = dataOf(after) !== dataOf(before);
  if (changed && !(await audited(ORG, idOf(c.request.as), res.requestId)))
    problems.push(`${at}: data changed without a committed audit entry`);
  if (res.status >= 400 && changed && kind !== "timeout")
    problems.push(`${at}: answered ${res.status} but changed data`);
  if (res.status >= 400 && !changed) {
    const { res: retried } = await send(c);
    if (retried.status >= 300)
      problems.push(`${at}: the retry answered ${retried.status} ${retried.json?.error?.code}`);
    problems.push(...inconsistencies(await stateOf(c.scope)).map((p) => `${at} (retry): ${p}`));
  }
  return problems;
}

beforeAll(() => installFaultInjector());

describe("every AWS call of every mutating route fails once", () => {
  it("has a request for every mutating route", () => {
    expect(MUTATING.map((route) => route.id).filter((id) => !REQUESTS[id])).toEqual([]);
  });

  for (const route of MUTATING) {
    it(`${route.method} ${route.path}`, { timeout: 600_000 }, async () => {
      const { res: baseline, calls } = await send(await newCase(route));
      expect(baseline.status, JSON.stringify(baseline.json)).toBeLessThan(300);
      expect(calls.length, "the route makes AWS calls to fail").toBeGreaterThan(0);
      const problems: string[] = [];
      for (const target of targetsOf(calls)) {
        const call = calls.find(
          (c: Call) => c.service === target.service && c.operation === target.operation,
        ) as Call;
        for (const kind of KINDS) {
          if (kind === "conditional" && !hasCondition(call)) continue;
          problems.push(...(await faultedRun(route, target, kind)));
        }
      }
      expect(problems, problems.join("\n")).toEqual([]);
    });
  }

  it("leaves the org's audit trail intact", async () => {
    const verification = await verifyOrg(ORG, "genesis");
    expect(verification.intact, JSON.stringify(verification.entryProblem ?? verification.indexProblem)).toBe(
      true,
    );
  });
});
