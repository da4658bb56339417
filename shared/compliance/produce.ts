import { PublishCommand } from "@aws-sdk/client-sns";
import { appendWithItems, auditEntry, type RequestMeta, withDigest } from "../audit";
import { aws } from "../aws";
import { getConfig } from "../config";
import { AppError, ConflictError, NotFoundError } from "../errors";
import { logger } from "../log";
import { canonicalJson, sha256Hex } from "../signing";
import { reportActivity } from "./activity";
import type { CheckDefinition, PreviousReport } from "./check";
import { CHECKS } from "./checks";
import { generateReport } from "./generate";
import { renderReportHtml } from "./html";
import { type Report, ReportSchema } from "./report";
import { ReportSignatureSchema, signReport } from "./signature";
import {
  clearAlert,
  doneItem,
  doneReportsBefore,
  getReportRow,
  markReportFailed,
  putReportObject,
  type ReportAlert,
  type ReportRow,
  readReportObject,
  reportObjectKeys,
  stagedOf,
  stageReport,
} from "./store";

/**
 * Produces one report of an org, the same way for the scheduled job, an on-demand request and
 * `npm run report`: the previous report and the last scores from the reports table → `generateReport` →
 * `renderReportHtml` → the HTML's SHA-256 into the body → canonical JSON → KMS signature → the signed
 * objects → the `report.generated` audit entry (naming the JSON's SHA-256) committed with the row's move to
 * `done`, in one transaction → the notification, if the score dropped or a critical check newly fails.
 *
 * Safe to run again for the same report id (idempotent): the row records what a run signed before any
 * object is written, objects are written HTML, signature, JSON last, and nothing is `done`, listed or
 * served before the audit entry commits. A run that stops halfway leaves a pending (or failed) row and
 * maybe some objects no entry vouches for; the next run reuses the signed set if all of it is there, else
 * signs again, and completes. A run for a report already done only sends its notification if it is still
 * owed.
 */
export const REPORT_ACTION = "report.generated";
/** A report's score falling this much below the previous one's is notified. */
export const SCORE_DROP_ALERT = 5;
/** Scores a report's chart shows before its own (it makes the twelfth). */
const HISTORY = 11;
/** Where an org's first report starts. */
const FIRST_PERIOD_DAYS = 30;

export type ProduceOptions = {
  /** Who produces it, for the audit entry: the job's service identity and invocation. */
  service: string;
  meta: RequestMeta;
  now?: Date;
  checks?: readonly CheckDefinition[];
};

export type Produced = {
  orgId: string;
  reportId: string;
  status: "done";
  score: number;
  sha256: string;
  /** The report was already done: nothing was generated again. */
  already: boolean;
  alert?: ReportAlert;
  /** The documents (absent when the report was already done). */
  documents?: { json: string; html: string; sig: string };
};

/** The row's move to `done` was refused: done by another run, or staged by one since this run read it. */
class AlreadyDone extends ConflictError {
  constructor() {
    super("REPORT_ALREADY_DONE", "The report is already done.");
  }
}

const previousOf = (row: ReportRow): PreviousReport & { periodTo: string } => ({
  reportId: row.reportId,
  generatedAt: row.generatedAt as string,
  score: row.score as number,
  statuses: row.statuses ?? {},
  carry: row.carry ?? {},
  periodTo: (row.period as { to: string }).to,
});

/** What to notify about a report against the one before it: ids, scores and check ids only. */
export function alertFor(report: Report, previous: ReportRow | undefined): ReportAlert | undefined {
  const before = previous?.statuses ?? {};
  const newlyFailedCritical = report.checks
    .filter(
      (check) => check.severity === "critical" && check.status === "fail" && before[check.id] !== "fail",
    )
    .map((check) => check.id);
  const previousScore = previous?.score;
  const scoreDrop = previousScore === undefined ? 0 : previousScore - report.score.value;
  if (scoreDrop < SCORE_DROP_ALERT && newlyFailedCritical.length === 0) return undefined;
  return {
    type: "compliance_report",
    orgId: report.orgId,
    reportId: report.reportId,
    previousReportId: previous?.reportId ?? "",
    score: report.score.value,
    previousScore: previousScore ?? report.score.value,
    scoreDrop: Math.max(0, scoreDrop),
    newlyFailedCritical,
  };
}

/** Publishes a report's notification to the alarm topic and forgets it; a failure throws (the run is retried). */
async function notify(alert: ReportAlert): Promise<void> {
  const topic = getConfig().ALARM_TOPIC_ARN;
  if (!topic) {
    logger.warn("compliance report notification not sent: no alarm topic here", { reportId: alert.reportId });
    return;
  }
  await aws("sns").send(
    new PublishCommand({
      TopicArn: topic,
      Subject: `CoachVault compliance report: score ${alert.score}${alert.scoreDrop > 0 ? ` (down ${alert.scoreDrop})` : ""}`,
      Message: JSON.stringify(alert),
      MessageAttributes: { type: { DataType: "String", StringValue: alert.type } },
    }),
  );
  logger.warn("compliance report notified", {
    securityEvent: "COMPLIANCE_REPORT_ALERT",
    orgId: alert.orgId,
    reportId: alert.reportId,
    score: alert.score,
    scoreDrop: alert.scoreDrop,
    newlyFailedCritical: alert.newlyFailedCritical,
  });
  await clearAlert(alert.orgId, alert.reportId);
}

/** The signed set a previous run wrote for what the row staged, when all of it is there and matches. */
async function storedDocuments(row: ReportRow) {
  if (!row.sha256 || !row.keys || !row.carry) return undefined;
  const [json, html, sig] = await Promise.all([
    readReportObject(row.keys.json),
    readReportObject(row.keys.html),
    readReportObject(row.keys.sig),
  ]);
  if (!json || !html || !sig) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(sig.toString("utf8"));
  } catch {
    return undefined; // not a signature document: sign again
  }
  const signature = ReportSignatureSchema.safeParse(parsed);
  if (sha256Hex(json) !== row.sha256 || sha256Hex(html) !== row.htmlSha256 || !signature.success)
    return undefined;
  if (signature.data.sha256 !== row.sha256) return undefined;
  const report = ReportSchema.parse(JSON.parse(json.toString("utf8")));
  return { report, json: json.toString("utf8"), html: html.toString("utf8"), sig: sig.toString("utf8") };
}

async function generateAndStore(
  row: ReportRow,
  previous: ReportRow | undefined,
  history: ReportRow[],
  options: ProduceOptions,
) {
  const now = options.now ?? new Date();
  const { body, carry } = await generateReport({
    reportId: row.reportId,
    orgId: row.orgId,
    now,
    ...(previous && { previous: previousOf(previous) }),
    history: history
      .slice()
      .reverse()
      .map((earlier) => ({
        reportId: earlier.reportId,
        generatedAt: earlier.generatedAt as string,
        score: earlier.score as number,
      })),
    checks: options.checks ?? CHECKS,
    activity: reportActivity,
    defaultFrom: (at) => new Date(at.getTime() - FIRST_PERIOD_DAYS * 86_400_000),
  });
  const html = renderReportHtml(body);
  const report = ReportSchema.parse({ ...body, html: { sha256: sha256Hex(html) } });
  const json = canonicalJson(report);
  const signature = await signReport(report.reportId, json);
  const sig = JSON.stringify(signature);
  const keys = reportObjectKeys(row.orgId, row.reportId);
  // What was signed is recorded before any object is written: a re-run recognises a complete set by it.
  await stageReport(row.orgId, row.reportId, stagedOf(report, signature.sha256, carry));
  await putReportObject(keys.html, Buffer.from(html), "text/html; charset=utf-8", now);
  await putReportObject(keys.sig, Buffer.from(sig), "application/json", now);
  // The JSON last: its presence means the set is complete.
  await putReportObject(keys.json, Buffer.from(json), "application/json", now);
  return { report, json, html, sig, sha256: signature.sha256 };
}

/** What a run answers for a report that was already done: nothing generated again. */
const alreadyDone = (row: ReportRow): Produced => ({
  orgId: row.orgId,
  reportId: row.reportId,
  status: "done",
  score: row.score as number,
  sha256: row.sha256 as string,
  already: true,
});

/** Produces (or completes) the report `reportId` of `orgId`, whose row a request or the scheduler made. */
export async function produceReport(
  orgId: string,
  reportId: string,
  options: ProduceOptions,
): Promise<Produced> {
  const row = await getReportRow(orgId, reportId);
  if (!row) throw new NotFoundError();
  if (row.status === "done") {
    if (row.alert) await notify(row.alert);
    return alreadyDone(row);
  }
  const earlier = await doneReportsBefore(orgId, reportId, HISTORY);
  const previous = earlier[0];
  const documents = (await storedDocuments(row)) ?? (await generateAndStore(row, previous, earlier, options));
  const sha256 = sha256Hex(documents.json);
  const alert = alertFor(documents.report, previous);
  const entry = withDigest(
    auditEntry(
      { service: options.service, orgId },
      options.meta,
      REPORT_ACTION,
      { type: "report", id: reportId },
      [],
    ),
    sha256,
  );
  try {
    await appendWithItems(entry, [
      { item: doneItem(orgId, reportId, sha256, alert), onConditionFailed: () => new AlreadyDone() },
    ]);
  } catch (error) {
    if (!(error instanceof AlreadyDone)) throw error;
    // Another run completed it meanwhile (its entry names its own documents): this one is not needed.
    const now = await getReportRow(orgId, reportId);
    if (now?.status !== "done")
      throw new ConflictError("REPORT_RUN_RACED", "Another run of the report is under way.");
    return alreadyDone(now);
  }
  if (alert) await notify(alert);
  return {
    orgId,
    reportId,
    status: "done",
    score: documents.report.score.value,
    sha256,
    already: false,
    ...(alert && { alert }),
    documents: { json: documents.json, html: documents.html, sig: documents.sig },
  };
}

/**
 * `produceReport`, recording a failure on the row (by error code) before rethrowing it, so the list shows
 * `failed` and the scheduler starts it again; a later run may still complete it.
 */
export async function produceOrRecordFailure(
  orgId: string,
  reportId: string,
  options: ProduceOptions,
): Promise<Produced> {
  try {
    return await produceReport(orgId, reportId, options);
  } catch (error) {
    const code = error instanceof AppError ? error.code : "INTERNAL_ERROR";
    if (!(error instanceof NotFoundError)) {
      await markReportFailed(orgId, reportId, code).catch((markError: unknown) =>
        logger.warn("report failure not recorded", { reportId, error: markError }),
      );
    }
    throw error;
  }
}
