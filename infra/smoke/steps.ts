import { REPORT_HTML_CSP } from "../../functions/reports/schema";
import { SECURITY_HEADERS } from "../../shared/http/security-headers";
import type { Send, SmokeRequest, SmokeResponse } from "./http";

/**
 * The post-deploy smoke test (`npm run smoke`), as data: each step is one sign-in or one request with the
 * status it must get. Every answer, successes, errors and the CORS preflight alike, must carry every
 * security header with its exact value. The steps run in order inside the smoke org (`SMOKE_ORG`), as its
 * coach and its admin, so the smoke test's data never mixes with a real org's. The same steps run against
 * a deployed stage and the local stack; only the target differs.
 */
export const SMOKE_ORG = "smoke";
export type SmokeRole = "coach" | "admin";

export type SmokeTarget = {
  /** How the output names what was tested ("stage prod", "the local stack"). */
  name: string;
  send: Send;
  /** An origin the API allows (CORS); the preflight step asks as it. */
  allowedOrigin: string;
  /** Signs the smoke org's user of that role in (password and TOTP) and returns the ID token. */
  signIn: (role: SmokeRole) => Promise<string>;
};

type State = {
  origin: string;
  tokens: Partial<Record<SmokeRole, string>>;
  clientId?: string;
  sessionId?: string;
  verificationJobId?: string;
  reportId?: string;
};

type SignInStep = { name: string; signIn: SmokeRole };
type RequestStep = {
  name: string;
  as?: SmokeRole;
  request: (state: State) => SmokeRequest;
  status: readonly number[];
  /** The answer must allow the target's origin (the preflight). */
  cors?: boolean;
  /** Checks the answer beyond status and headers (throws `SmokeCheckFailed`); returns what later steps need. */
  check?: (res: SmokeResponse, state: State) => Partial<State> | undefined;
  /** Asks again, a second apart and at most `MAX_POLLS` times, while this says the work is under way. */
  pollWhile?: (res: SmokeResponse) => boolean;
  /** Security headers this answer carries with another value than the API's (a document's own CSP). */
  headers?: Readonly<Record<string, string>>;
};
export type SmokeStep = SignInStep | RequestStep;

class SmokeCheckFailed extends Error {}
const fail = (reason: string): never => {
  throw new SmokeCheckFailed(reason);
};

const MAX_POLLS = 120;
const SMOKE_CONSENT_VERSION = "smoke-1";
/** 100 KB of made-up coaching talk without identifiers (DetectPHI still reads all of it). */
const TRANSCRIPT_BYTES = 100 * 1024;
const transcript = () =>
  "Coach: How did the week go?\nClient: I walked most mornings and slept better.\n"
    .repeat(Math.ceil(TRANSCRIPT_BYTES / 70))
    .slice(0, TRANSCRIPT_BYTES);

/** A field of a JSON answer, or a failure naming it. */
function field(res: SmokeResponse, name: string): unknown {
  const value = (res.json as Record<string, unknown> | undefined)?.[name];
  return value ?? fail(`the answer has no ${name}`);
}

export const SMOKE_STEPS: readonly SmokeStep[] = [
  { name: "sign in the smoke coach", signIn: "coach" },
  { name: "sign in the smoke admin", signIn: "admin" },
  {
    name: "GET /health",
    request: () => ({ method: "GET", path: "/health" }),
    status: [200],
    check: (res) => {
      if (field(res, "status") !== "ok") fail("health is not ok");
      return undefined;
    },
  },
  {
    name: "an unauthenticated request is refused",
    request: () => ({ method: "GET", path: "/clients" }),
    status: [401],
  },
  {
    name: "CORS preflight from an allowed origin",
    request: (state) => ({
      method: "OPTIONS",
      path: "/clients",
      headers: {
        origin: state.origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    }),
    status: [200, 204],
    cors: true,
  },
  {
    name: "create a client",
    as: "coach",
    request: () => ({ method: "POST", path: "/clients", body: { name: "Smoke Test Client" } }),
    status: [201],
    check: (res) => ({ clientId: String(field(res, "clientId")) }),
  },
  {
    name: "read the client",
    as: "coach",
    request: (state) => ({ method: "GET", path: `/clients/${state.clientId}` }),
    status: [200],
    check: (res, state) => {
      if (field(res, "clientId") !== state.clientId || field(res, "name") !== "Smoke Test Client")
        fail("the client read back is not the one created");
      return undefined;
    },
  },
  ...(["coaching", "ai_processing"] as const).map(
    (purpose): RequestStep => ({
      name: `grant the ${purpose} consent`,
      as: "coach",
      request: (state) => ({
        method: "PUT",
        path: `/clients/${state.clientId}/consents/${purpose}`,
        body: { version: SMOKE_CONSENT_VERSION },
      }),
      status: [200],
    }),
  ),
  {
    name: "create a session",
    as: "coach",
    request: (state) => ({
      method: "POST",
      path: `/clients/${state.clientId}/sessions`,
      body: { startsAt: new Date().toISOString(), durationMinutes: 30, type: "coaching" },
    }),
    status: [201],
    check: (res) => ({ sessionId: String(field(res, "sessionId")) }),
  },
  {
    name: "upload a 100 KB transcript",
    as: "coach",
    request: (state) => ({
      method: "PUT",
      path: `/clients/${state.clientId}/sessions/${state.sessionId}/transcript`,
      body: { text: transcript() },
    }),
    status: [200],
    check: (res) => {
      if (field(res, "bytes") !== TRANSCRIPT_BYTES) fail("the stored transcript is not 100 KB");
      return undefined;
    },
  },
  {
    name: "start the audit verification",
    as: "admin",
    request: () => ({ method: "GET", path: "/audit/verify" }),
    status: [202],
    check: (res) => ({ verificationJobId: String(field(res, "jobId")) }),
  },
  {
    name: "read the audit verification",
    as: "admin",
    request: (state) => ({ method: "GET", path: `/audit/verify/${state.verificationJobId}` }),
    status: [200],
    pollWhile: (res) => (res.json as { state?: unknown } | undefined)?.state === "running",
    check: (res) => {
      if (field(res, "state") !== "done") fail(`the verification ended ${String(field(res, "state"))}`);
      const report = field(res, "report") as { orgId?: unknown; intact?: unknown };
      if (report.orgId !== SMOKE_ORG) fail(`the verification covered org ${String(report.orgId)}`);
      if (report.intact !== true) fail("the smoke org's audit trail is not intact");
      return undefined;
    },
  },
  {
    name: "request a compliance report",
    as: "admin",
    request: () => ({ method: "POST", path: "/reports" }),
    status: [202],
    check: (res) => ({ reportId: String(field(res, "reportId")) }),
  },
  {
    name: "read the signed compliance report",
    as: "admin",
    request: (state) => ({ method: "GET", path: `/reports/${state.reportId}` }),
    status: [200],
    // Not done yet: the job is still producing it.
    pollWhile: (res) => res.status === 409,
    check: (res, state) => {
      if (field(res, "orgId") !== SMOKE_ORG || field(res, "reportId") !== state.reportId)
        fail("the report is not the one requested");
      if (!header(res, "X-Report-Signature")) fail("the report comes without its signature");
      return undefined;
    },
  },
  {
    name: "read the compliance report's HTML",
    as: "admin",
    request: (state) => ({ method: "GET", path: `/reports/${state.reportId}/html` }),
    status: [200],
    headers: { "Content-Security-Policy": REPORT_HTML_CSP },
    check: (res) => {
      if (!header(res, "Content-Type")?.startsWith("text/html")) fail("the HTML report is not text/html");
      return undefined;
    },
  },
];

const header = (res: SmokeResponse, name: string) => {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(", ") : value;
};

/** Every security header with its exact value (invariant 8: on successes, errors and preflights alike). */
function checkSecurityHeaders(res: SmokeResponse, own: Readonly<Record<string, string>> = {}): void {
  for (const [name, expected] of Object.entries({ ...SECURITY_HEADERS, ...own })) {
    const actual = header(res, name);
    if (actual === undefined) fail(`the ${res.status} answer has no ${name} header`);
    if (actual !== expected) fail(`the ${res.status} answer's ${name} header is not the expected value`);
  }
}

function checkCors(res: SmokeResponse, origin: string): void {
  if (header(res, "Access-Control-Allow-Origin") !== origin) fail("the preflight does not allow the origin");
  if (!header(res, "Access-Control-Allow-Methods")?.includes("POST"))
    fail("the preflight does not allow POST");
}

const errorCode = (res: SmokeResponse) =>
  (res.json as { error?: { code?: unknown } } | undefined)?.error?.code;

async function runRequest(step: RequestStep, state: State, target: SmokeTarget): Promise<Partial<State>> {
  const token = step.as && (state.tokens[step.as] ?? fail(`the smoke ${step.as} is not signed in`));
  const request = { ...step.request(state), ...(token && { token }) };
  let res = await target.send(request);
  for (let poll = 1; step.pollWhile?.(res) && poll < MAX_POLLS; poll++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    res = await target.send(request);
  }
  if (!step.status.includes(res.status)) {
    const code = errorCode(res);
    fail(`expected status ${step.status.join(" or ")}, got ${res.status}${code ? ` (${String(code)})` : ""}`);
  }
  checkSecurityHeaders(res, res.status < 300 ? step.headers : undefined);
  if (step.cors) checkCors(res, state.origin);
  return step.check?.(res, state) ?? {};
}

export type SmokeResult = { ok: true } | { ok: false; step: string; reason: string };

/** Runs the steps in order, printing each; stops at the first that fails and names it. */
export async function runSmoke(
  target: SmokeTarget,
  print: (line: string) => void,
  steps: readonly SmokeStep[] = SMOKE_STEPS,
): Promise<SmokeResult> {
  print(`smoke test of ${target.name}, in org ${SMOKE_ORG}`);
  let state: State = { origin: target.allowedOrigin, tokens: {} };
  for (const step of steps) {
    try {
      if ("signIn" in step) state.tokens[step.signIn] = await target.signIn(step.signIn);
      else state = { ...state, ...(await runRequest(step, state, target)) };
      print(`  ok    ${step.name}`);
    } catch (error) {
      // Reasons are fixed text, statuses, error codes and header names: never a token, password or body.
      const reason = error instanceof Error ? error.message : "failed";
      print(`  FAIL  ${step.name}: ${reason}`);
      return { ok: false, step: step.name, reason };
    }
  }
  print(`smoke test of ${target.name} passed`);
  return { ok: true };
}
