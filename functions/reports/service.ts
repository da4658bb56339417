import { v7 as timeOrderedId } from "uuid";
import * as z from "zod";
import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import type { Principal } from "../../shared/auth";
import { requireOrgAction } from "../../shared/auth/policy";
import { ReportSignatureSchema } from "../../shared/compliance/signature";
import {
  getReportRow,
  pendingReportItem,
  type ReportRow,
  readReportObject,
  reportObjectKeys,
  reportRowsPage,
} from "../../shared/compliance/store";
import { ConflictError, IntegrityError, NotFoundError } from "../../shared/errors";
import { startJob } from "../../shared/jobs";
import { logger } from "../../shared/log";
import { sha256Hex } from "../../shared/signing";
import { cursorScope, openCursor, pageSize, sealCursor } from "../../shared/store";
import type { ReportSummary } from "./schema";

const ListPosition = z.strictObject({ sk: z.string().startsWith("REPORT#").max(200) });

function summaryOf(row: ReportRow): ReportSummary {
  return {
    reportId: row.reportId,
    status: row.status,
    trigger: row.trigger,
    requestedAt: row.requestedAt,
    ...(row.status === "done" && {
      generatedAt: row.generatedAt,
      period: row.period,
      score: row.score,
      band: row.band,
      counts: row.counts,
      coverage: row.coverage,
      sha256: row.sha256,
    }),
    ...(row.status === "failed" && row.failure && { failure: row.failure }),
  };
}

/** The org's reports, newest first, from their index rows (S3 is not read). */
export async function listReports(principal: Principal, query: { limit?: number; cursor?: string }) {
  requireOrgAction(principal, "report:read");
  const scope = cursorScope(principal, "listReports");
  const after = (await openCursor(scope, ListPosition, query.cursor))?.sk;
  const { rows, last } = await reportRowsPage(principal.orgId, pageSize(query.limit), after);
  const nextCursor = await sealCursor(scope, last ? { sk: last } : undefined);
  return { items: rows.map(summaryOf), ...(nextCursor && { nextCursor }) };
}

/**
 * An on-demand report: a pending row and its `report.request` audit entry in one transaction, then the
 * job. A start that fails after the commit leaves the row pending: the scheduler starts it again once it
 * has stalled (`STALLED_PENDING_MINUTES`).
 */
export async function requestReport(principal: Principal, meta: RequestMeta): Promise<{ reportId: string }> {
  requireOrgAction(principal, "report:request");
  const reportId = timeOrderedId();
  await appendWithItems(auditEntry(principal, meta, "report.request", { type: "report", id: reportId }, []), [
    {
      item: pendingReportItem({
        orgId: principal.orgId,
        reportId,
        requestedBy: principal.userId,
        requestedAt: new Date().toISOString(),
        trigger: "on_demand",
      }),
    },
  ]);
  await startJob("complianceReport", { orgId: principal.orgId, reportId });
  return { reportId };
}

/** A done report's row, or 404 (no such report in the caller's org) / 409 (not done yet). */
async function doneRow(principal: Principal, reportId: string): Promise<ReportRow> {
  requireOrgAction(principal, "report:read");
  const row = await getReportRow(principal.orgId, reportId);
  if (!row) throw new NotFoundError();
  if (row.status !== "done" || !row.keys || !row.sha256)
    throw new ConflictError("REPORT_NOT_READY", "The report is not done yet.");
  return row;
}

/** An object the row vouches for; anything else (missing, or not what the audit entry pinned) is an integrity failure. */
async function vouchedObject(row: ReportRow, key: string, sha256?: string): Promise<Buffer> {
  const object = await readReportObject(key);
  if (!object || (sha256 !== undefined && sha256Hex(object) !== sha256)) {
    logger.error("report object does not match its index row", {
      securityEvent: "REPORT_INTEGRITY",
      orgId: row.orgId,
      reportId: row.reportId,
    });
    throw new IntegrityError();
  }
  return object;
}

/** The signed report JSON and its signature document. */
export async function readReport(principal: Principal, reportId: string) {
  const row = await doneRow(principal, reportId);
  const keys = reportObjectKeys(principal.orgId, reportId);
  const [json, sig] = await Promise.all([
    vouchedObject(row, keys.json, row.sha256),
    vouchedObject(row, keys.sig),
  ]);
  const signature = ReportSignatureSchema.parse(JSON.parse(sig.toString("utf8")));
  const report = JSON.parse(json.toString("utf8")) as { orgId?: unknown; reportId?: unknown };
  // The row is not trusted to say where a report is: another org's report (a row edited to point at it,
  // with its hash) is an integrity failure, never an answer.
  if (report.orgId !== principal.orgId || report.reportId !== reportId || signature.reportId !== reportId) {
    logger.error("report object is not this org's report", {
      securityEvent: "REPORT_INTEGRITY",
      orgId: principal.orgId,
      reportId,
    });
    throw new IntegrityError();
  }
  return { report: report as unknown, signature };
}

/** The report's HTML, as the JSON's `html.sha256` names it. */
export async function readReportHtml(principal: Principal, reportId: string): Promise<string> {
  const row = await doneRow(principal, reportId);
  const keys = reportObjectKeys(principal.orgId, reportId);
  return (await vouchedObject(row, keys.html, row.htmlSha256)).toString("utf8");
}
