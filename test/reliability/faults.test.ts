import { beforeAll, describe, expect, it } from "vitest";
import { routeList } from "../../functions/routes";
import { forgetChainPositions, verifyOrg } from "../../shared/audit";
import { forgetDataKey } from "../../shared/crypto";
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
import { testStack } from "../support/stack";
import { clientState, dataOf, inconsistencies } from "./state";

/**
 * Fault injection, generated from the manifest: for every mutating route, each AWS call it makes fails
 * once — throttled, a 500, a lost answer after the call took effect, a failed condition where the call
 * has one — on a fresh fixture. The route must answer a clear 4xx or a retryable 503 (never a 500), and
 * leave either nothing changed or a complete, audited change: no PHI without its audit entry, no object
 * without its record, no record pointing at a missing object, no assignment without its client entry.
 * A request that failed without changing anything must then succeed when retried (no consumed version).
 */
const stack = testStack();
const REQUESTS = routeRequests(stack);
const ORG = "demo";
const KINDS: readonly FaultKind[] = ["throttling", "server", "conditional", "timeout"];

const MUTATING = routeList.filter((route) => route.method !== "GET");

/** Sends the route's request for `fixture` in-process, recording its AWS calls (and failing one, if asked). */
async function send(routeId: string, fixture: Fixture, fault?: { target: Target; kind: FaultKind }) {
  const route = routeList.find((candidate) => candidate.id === routeId);
  const request = (REQUESTS[routeId] as (f: Fixture) => RouteRequest[])(fixture)[0];
  if (!route || !request) throw new Error(`no request for ${routeId}`);
  const token = await stack.token(request.as);
  // Every run starts cold — the data key not cached in this process, no remembered chain head — so it
  // makes the same calls as the baseline did.
  forgetDataKey({ orgId: ORG, clientId: fixture.clientId });
  forgetChainPositions();
  arm(fault);
  try {
    const res = await invokeRoute(route.method, request.path, {
      token,
      ...(request.body !== undefined && { body: request.body }),
    });
    return { res, ...recorded() };
  } finally {
    disarm();
  }
}

type Problem = string;

/** One faulted run on a fresh fixture, then a retry; the problems found (empty when all held). */
async function faultedRun(routeId: string, target: CallTarget, kind: FaultKind) {
  const problems: Problem[] = [];
  const at = `${target.service}:${target.operation}#${target.occurrence} ${kind}`;
  const fixture = await richFixture(stack);
  const before = await clientState(ORG, fixture.clientId);
  const { res, fired } = await send(routeId, fixture, { target, kind });
  if (!fired) return [`${at}: the targeted call was not made`];
  if (res.status >= 500 && res.status !== 503)
    problems.push(`${at}: answered ${res.status} ${res.json?.error?.code}`);
  const after = await clientState(ORG, fixture.clientId);
  problems.push(...inconsistencies(after).map((problem) => `${at}: ${problem}`));
  const changed = dataOf(after) !== dataOf(before);
  if (changed && !after.auditedRequests.includes(res.requestId))
    problems.push(`${at}: data changed without a committed audit entry`);
  if (res.status >= 400 && changed && kind !== "timeout")
    problems.push(`${at}: answered ${res.status} but changed data`);
  if (res.status >= 400 && !changed) {
    const { res: retried } = await send(routeId, fixture);
    if (retried.status >= 300)
      problems.push(`${at}: the retry answered ${retried.status} ${retried.json?.error?.code}`);
    problems.push(
      ...inconsistencies(await clientState(ORG, fixture.clientId)).map((p) => `${at} (retry): ${p}`),
    );
  }
  return problems;
}

beforeAll(() => installFaultInjector());

describe("every AWS call of every mutating route fails once", () => {
  for (const route of MUTATING) {
    it(`${route.method} ${route.path}`, { timeout: 600_000 }, async () => {
      const { res: baseline, calls } = await send(route.id, await richFixture(stack));
      expect(baseline.status, JSON.stringify(baseline.json)).toBeLessThan(300);
      const problems: Problem[] = [];
      for (const target of targetsOf(calls)) {
        const call = calls.find(
          (c: Call) => c.service === target.service && c.operation === target.operation,
        ) as Call;
        for (const kind of KINDS) {
          if (kind === "conditional" && !hasCondition(call)) continue;
          problems.push(...(await faultedRun(route.id, target, kind)));
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
