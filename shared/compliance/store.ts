import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { TransactItem } from "../audit";
import { aws } from "../aws";
import { ConfigError, getConfig } from "../config";
import type { CheckStatus } from "./check";
import type { Report } from "./report";

/**
 * Where reports live. An index row per report in the reports table (`pk = ORG#<org>`,
 * `sk = REPORT#<reportId>`; report ids are UUIDv7, so the sort key orders an org's reports by time): its
 * status, score, counts, object keys, the signed JSON's SHA-256 and what its checks carried forward, so the
 * next report builds on it and a list never reads S3. The documents themselves (JSON, HTML, signature) are
 * objects under Object Lock in the reports bucket, written once.
 */
export type ReportStatus = "pending" | "done" | "failed";
export type ReportObjectKeys = { json: string; html: string; sig: string };

/** What the notification of a report says: ids, scores and check ids only. */
export type ReportAlert = {
  type: "compliance_report";
  orgId: string;
  reportId: string;
  previousReportId: string;
  score: number;
  previousScore: number;
  scoreDrop: number;
  newlyFailedCritical: string[];
};

export type ReportRow = {
  pk: string;
  sk: string;
  orgId: string;
  reportId: string;
  status: ReportStatus;
  /** Who asked: a user id (on demand) or a service (`job:scheduleReports`). */
  requestedBy: string;
  requestedAt: string;
  /** When the scheduler last started its job again (a failed or stalled report). */
  restartedAt?: string;
  trigger: "on_demand" | "schedule";
  /** Set once the documents are signed (still pending until the audit entry commits with `done`). */
  generatedAt?: string;
  period?: { from: string; to: string };
  score?: number;
  band?: string;
  counts?: Record<CheckStatus, number>;
  coverage?: number;
  keys?: ReportObjectKeys;
  /** SHA-256 of the signed JSON object (its canonical text): what `report.generated` pins in the audit chain. */
  sha256?: string;
  htmlSha256?: string;
  statuses?: Record<string, CheckStatus>;
  /** What each check carried forward (never part of the signed JSON). */
  carry?: Record<string, unknown>;
  /** A notification decided with `done` and not yet published. */
  alert?: ReportAlert;
  /** Why the last run failed: an error code, never a message. */
  failure?: string;
  doneAt?: string;
};

export const REPORT_SK_PREFIX = "REPORT#";
export const reportKey = (orgId: string, reportId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `${REPORT_SK_PREFIX}${reportId}`,
});
export const reportObjectKeys = (orgId: string, reportId: string): ReportObjectKeys => {
  const base = `${orgId}/reports/${reportId}`;
  return { json: `${base}.json`, html: `${base}.html`, sig: `${base}.sig` };
};

/** The report settings, which only report code needs. */
export function reportSettings() {
  const config = getConfig();
  if (!config.TABLE_REPORTS || !config.BUCKET_REPORTS) {
    throw new ConfigError("Invalid or missing settings: TABLE_REPORTS, BUCKET_REPORTS");
  }
  return { ...config, table: config.TABLE_REPORTS, bucket: config.BUCKET_REPORTS };
}

/** A new pending report's row, put only if the report id is new (a transaction item: with its audit entry). */
export function pendingReportItem(row: {
  orgId: string;
  reportId: string;
  requestedBy: string;
  requestedAt: string;
  trigger: ReportRow["trigger"];
}): TransactItem {
  const item: ReportRow = { ...reportKey(row.orgId, row.reportId), ...row, status: "pending" };
  return {
    Put: { TableName: reportSettings().table, Item: item, ConditionExpression: "attribute_not_exists(pk)" },
  };
}

/** Records a new pending report (no audit entry: the scheduler's own requests). */
export async function putPendingReport(row: Parameters<typeof pendingReportItem>[0]): Promise<void> {
  const put = pendingReportItem(row).Put as NonNullable<TransactItem["Put"]>;
  await aws("dynamo").send(new PutCommand(put));
}

export async function getReportRow(orgId: string, reportId: string): Promise<ReportRow | undefined> {
  const out = await aws("dynamo").send(
    new GetCommand({
      TableName: reportSettings().table,
      Key: reportKey(orgId, reportId),
      ConsistentRead: true,
    }),
  );
  return out.Item as ReportRow | undefined;
}

/** The org's most recent report row, whatever its status. */
export async function latestReportRow(orgId: string): Promise<ReportRow | undefined> {
  const out = await aws("dynamo").send(
    new QueryCommand({
      TableName: reportSettings().table,
      KeyConditionExpression: "pk = :p AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":p": `ORG#${orgId}`, ":prefix": REPORT_SK_PREFIX },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  return out.Items?.[0] as ReportRow | undefined;
}

/** Up to `count` done reports of the org made before `reportId`, newest first. */
export async function doneReportsBefore(
  orgId: string,
  reportId: string,
  count: number,
): Promise<ReportRow[]> {
  const found: ReportRow[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await aws("dynamo").send(
      new QueryCommand({
        TableName: reportSettings().table,
        KeyConditionExpression: "pk = :p AND sk BETWEEN :first AND :before",
        ExpressionAttributeValues: {
          ":p": `ORG#${orgId}`,
          ":first": REPORT_SK_PREFIX,
          // Sort keys below this report's: `REPORT#<id>` itself is excluded below.
          ":before": reportKey(orgId, reportId).sk,
        },
        ScanIndexForward: false,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const row of (out.Items ?? []) as ReportRow[])
      if (row.status === "done" && row.reportId !== reportId && found.length < count) found.push(row);
    start = out.LastEvaluatedKey;
  } while (start && found.length < count);
  return found;
}

/** One page of the org's reports, newest first, after the sort key `after`. */
export async function reportRowsPage(
  orgId: string,
  limit: number,
  after?: string,
): Promise<{ rows: ReportRow[]; last?: string }> {
  const out = await aws("dynamo").send(
    new QueryCommand({
      TableName: reportSettings().table,
      KeyConditionExpression: "pk = :p AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":p": `ORG#${orgId}`, ":prefix": REPORT_SK_PREFIX },
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
      ...(after && { ExclusiveStartKey: { pk: `ORG#${orgId}`, sk: after } }),
    }),
  );
  const last = out.LastEvaluatedKey?.sk;
  return { rows: (out.Items ?? []) as ReportRow[], ...(typeof last === "string" && { last }) };
}

/** What a signed report's row records while it is still pending (before its objects are written). */
export type StagedReport = Required<
  Pick<
    ReportRow,
    | "generatedAt"
    | "period"
    | "score"
    | "band"
    | "counts"
    | "coverage"
    | "keys"
    | "sha256"
    | "htmlSha256"
    | "statuses"
    | "carry"
  >
>;

export function stagedOf(report: Report, sha256: string, carry: Record<string, unknown>): StagedReport {
  return {
    generatedAt: report.generatedAt,
    period: report.period,
    score: report.score.value,
    band: report.score.band,
    counts: report.score.counts,
    coverage: report.score.coverage,
    keys: reportObjectKeys(report.orgId, report.reportId),
    sha256,
    htmlSha256: report.html.sha256,
    statuses: Object.fromEntries(report.checks.map((check) => [check.id, check.status])),
    carry,
  };
}

/** Records what a run signed, on a row that is not done (a re-run finds it and reuses the objects). */
export async function stageReport(orgId: string, reportId: string, staged: StagedReport): Promise<void> {
  const names = Object.keys(staged);
  await aws("dynamo").send(
    new UpdateCommand({
      TableName: reportSettings().table,
      Key: reportKey(orgId, reportId),
      UpdateExpression: `SET ${names.map((_name, i) => `#n${i} = :v${i}`).join(", ")} REMOVE failure`,
      ConditionExpression: "attribute_exists(pk) AND #status <> :done",
      ExpressionAttributeNames: {
        ...Object.fromEntries(names.map((name, i) => [`#n${i}`, name])),
        "#status": "status",
      },
      ExpressionAttributeValues: {
        ...Object.fromEntries(names.map((name, i) => [`:v${i}`, staged[name as keyof StagedReport]])),
        ":done": "done",
      },
    }),
  );
}

/** The row's move to `done` (a transaction item, committed with the `report.generated` audit entry). */
export function doneItem(orgId: string, reportId: string, sha256: string, alert?: ReportAlert): TransactItem {
  return {
    Update: {
      TableName: reportSettings().table,
      Key: reportKey(orgId, reportId),
      UpdateExpression: `SET #status = :done, doneAt = :now${alert ? ", alert = :alert" : ""}`,
      // Only the run that signed what the row staged completes it, once.
      ConditionExpression: "#status <> :done AND sha256 = :sha",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: {
        ":done": "done",
        ":now": new Date().toISOString(),
        ":sha": sha256,
        ...(alert && { ":alert": alert }),
      },
    },
  };
}

/** Sets attributes on a report's row unless it is done (a done report's row never changes again). */
async function updateUnlessDone(
  orgId: string,
  reportId: string,
  set: string,
  values: Record<string, unknown>,
): Promise<void> {
  await aws("dynamo").send(
    new UpdateCommand({
      TableName: reportSettings().table,
      Key: reportKey(orgId, reportId),
      UpdateExpression: `SET ${set}`,
      ConditionExpression: "attribute_exists(pk) AND #status <> :done",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ...values, ":done": "done" },
    }),
  );
}

/** A run that failed: the row says so by code (a later run may still complete it). */
export const markReportFailed = (orgId: string, reportId: string, code: string): Promise<void> =>
  updateUnlessDone(orgId, reportId, "#status = :failed, failure = :code", {
    ":failed": "failed",
    ":code": code.slice(0, 64),
  });

/** The scheduler starts a failed or stalled report's job again: noted, so it is not restarted every hour. */
export const markRestarted = (orgId: string, reportId: string, at: string): Promise<void> =>
  updateUnlessDone(orgId, reportId, "restartedAt = :at", { ":at": at });

/** The notification went out: forget it. */
export async function clearAlert(orgId: string, reportId: string): Promise<void> {
  await aws("dynamo").send(
    new UpdateCommand({
      TableName: reportSettings().table,
      Key: reportKey(orgId, reportId),
      UpdateExpression: "REMOVE alert",
    }),
  );
}

/** Writes one of a report's objects under Object Lock (compliance mode) for the configured retention. */
export async function putReportObject(
  key: string,
  body: Buffer,
  contentType: string,
  now: Date,
): Promise<void> {
  const { bucket, REPORT_RETENTION_DAYS } = reportSettings();
  await aws("s3").send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      ObjectLockMode: "COMPLIANCE",
      ObjectLockRetainUntilDate: new Date(now.getTime() + REPORT_RETENTION_DAYS * 86_400_000),
    }),
  );
}

/** One of a report's objects, or undefined when it is not (yet) there. */
export async function readReportObject(key: string): Promise<Buffer | undefined> {
  try {
    const out = await aws("s3").send(new GetObjectCommand({ Bucket: reportSettings().bucket, Key: key }));
    return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
  } catch (error) {
    // A missing key is 404 NoSuchKey, or 403 AccessDenied to a caller without s3:ListBucket (none has it).
    const name = (error as { name?: string }).name;
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (name === "NoSuchKey" || (status === 403 && name === "AccessDenied") || status === 404)
      return undefined;
    throw error;
  }
}
