import { tenantSettings } from "../settings";
import type { CheckContext, CheckDefinition, PreviousReport } from "./check";
import { evaluateChecks } from "./evaluate";
import { type Activity, REPORT_SCHEMA, REPORT_VERSION, type ReportBody, ReportBodySchema } from "./report";
import { scoreOf } from "./score";

export type ReportRequest = {
  reportId: string;
  orgId: string;
  /** The report's clock; the period ends here. */
  now: Date;
  /** The period's start; by default the previous report's end, else `defaultFrom`. */
  from?: string;
  previous?: PreviousReport & { periodTo: string };
  /** Earlier reports' scores, oldest first (at most 11: this report makes the twelfth). */
  history: ReportBody["history"];
  checks: readonly CheckDefinition[];
  /** Gathers what the charts draw for the period (`memo`: the checks' shared loads, such as the period's entries). */
  activity: (context: {
    orgId: string;
    period: ReportBody["period"];
    memo: CheckContext["memo"];
  }) => Promise<Activity>;
  /** Where a first report starts when no `from` is given. */
  defaultFrom: (now: Date) => Date;
};

export type Generated = { body: ReportBody; carry: Record<string, unknown> };

/** One report's body (everything but the HTML's hash), with what its checks carry forward. */
export async function generateReport(request: ReportRequest): Promise<Generated> {
  const to = request.now.toISOString();
  const from = request.from ?? request.previous?.periodTo ?? request.defaultFrom(request.now).toISOString();
  const period = { from, to };
  const memos = new Map<string, Promise<unknown>>();
  const memo = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    if (!memos.has(key)) memos.set(key, load());
    return memos.get(key) as Promise<T>;
  };
  const settings = await tenantSettings(request.orgId);
  const context = {
    orgId: request.orgId,
    period,
    now: request.now,
    settings,
    memo,
    ...(request.previous && { previous: request.previous }),
  };
  const [{ results, carry }, activity] = await Promise.all([
    evaluateChecks(request.checks, context),
    request.activity({ orgId: request.orgId, period, memo }),
  ]);
  const score = scoreOf(results);
  const body = ReportBodySchema.parse({
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    reportId: request.reportId,
    orgId: request.orgId,
    generatedAt: to,
    period,
    score,
    ...(request.previous && {
      previous: { reportId: request.previous.reportId, score: request.previous.score },
    }),
    history: [
      ...request.history.slice(-11),
      { reportId: request.reportId, generatedAt: to, score: score.value },
    ],
    checks: results,
    activity,
  });
  return { body, carry };
}
