import { execFile } from "node:child_process";
import { createHash, createPublicKey, verify } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetPublicKeyCommand } from "@aws-sdk/client-kms";
import canonicalize from "canonicalize";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { run as scheduleReports } from "../../functions/reports/schedule.job";
import { REPORT_HTML_CSP } from "../../functions/reports/schema";
import { localAlarmTopicArn, readPublished } from "../../infra/local/sns";
import { queryEntries } from "../../shared/audit";
import { aws } from "../../shared/aws";
import { type CheckDefinition, failed, passed, ReportSchema } from "../../shared/compliance";
import { produceOrRecordFailure, produceReport } from "../../shared/compliance/produce";
import { getReportRow, latestReportRow, readReportObject } from "../../shared/compliance/store";
import { getConfig } from "../../shared/config";
import { arm, disarm, installFaultInjector, recorded } from "../support/faults";
import { pendingReport, producedReport, reportJob } from "../support/reports";
import { testStack } from "../support/stack";

/**
 * Compliance reports end to end: the routes (who may, other orgs, 202 then the report, the HTML's CSP), the
 * job (idempotent per report id; a fault halfway leaves nothing done and a re-run completes it), the audit
 * entry that pins the report's hash, the notification of a drop, the scheduler and the local commands.
 */
const stack = testStack();
const { api } = stack;
const sha256 = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");
const run = promisify(execFile);

let officer: string;
let admin: string;
let coach: string;
let otherOfficer: string;

beforeAll(async () => {
  officer = await stack.token("compliance@demo.example");
  admin = await stack.token("admin@demo.example");
  coach = await stack.token("coach1@demo.example");
  otherOfficer = await stack.token("compliance@other.example");
});

async function publicKey() {
  const out = await aws("kms").send(new GetPublicKeyCommand({ KeyId: getConfig().KMS_AUDIT_SIGNING_KEY_ID }));
  return createPublicKey({ key: Buffer.from(out.PublicKey ?? []), format: "der", type: "spki" });
}

async function untilDone(reportId: string, token: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const list = await api("GET", "/reports?limit=50", { token });
    const item = list.json.items.find((candidate: { reportId: string }) => candidate.reportId === reportId);
    if (item?.status === "done") return item;
    if (item?.status === "failed") throw new Error(`report failed: ${item.failure}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("report not done in 20 s");
}

/** The org's `report.generated` entries naming the report. */
async function generatedEntries(orgId: string, reportId: string) {
  const page = await queryEntries(orgId, { action: "report.generated", limit: 50 });
  return page.items.filter((found) => found.entry?.resource.id === reportId);
}

const check = (
  id: string,
  severity: CheckDefinition["severity"],
  passes: () => boolean,
): CheckDefinition => ({
  id,
  title: id,
  hipaa: "164.312(b)",
  layer: "application",
  severity,
  weight: 3,
  remediation: "Fix it.",
  evaluate: async () => (passes() ? passed({ seen: 1 }) : failed({ seen: 0 })),
});

describe("reports through the routes", () => {
  it("a compliance officer asks for one (202 with its id), it appears done, signed, with its HTML under a CSP that loads nothing", async () => {
    const requested = await api("POST", "/reports", { token: officer });
    expect(requested.status, requested.text).toBe(202);
    const { reportId } = requested.json;
    expect(requested.headers.location).toBe(`reports/${reportId}`);
    const listed = await untilDone(reportId, officer);

    const got = await api("GET", `/reports/${reportId}`, { token: admin });
    expect(got.status).toBe(200);
    const report = ReportSchema.parse(got.json);
    expect(report).toMatchObject({ reportId, orgId: "demo" });
    expect(listed).toMatchObject({ score: report.score.value, band: report.score.band });
    // The signature in the headers verifies over the canonical JSON, under the audit signing key.
    const canonical = canonicalize(got.json) as string;
    expect(got.headers["x-report-sha256"]).toBe(sha256(canonical));
    expect(listed.sha256).toBe(sha256(canonical));
    expect(got.headers["x-report-signature-algorithm"]).toBe("ECDSA_SHA_256");
    const signature = Buffer.from(String(got.headers["x-report-signature"]), "base64");
    expect(verify("sha256", Buffer.from(canonical), await publicKey(), signature)).toBe(true);

    const html = await api("GET", `/reports/${reportId}/html`, { token: officer });
    expect(html.status).toBe(200);
    expect(html.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(html.headers["content-security-policy"]).toBe(REPORT_HTML_CSP);
    expect(html.headers["x-frame-options"]).toBe("DENY");
    expect(sha256(html.text)).toBe(report.html.sha256);
    // Errors of the HTML route stay JSON under the API's own policy.
    const missing = await api("GET", "/reports/0190b6d2-7c1e-7a3b-8f00-000000000000/html", {
      token: officer,
    });
    expect(missing.status).toBe(404);
    expect(missing.headers["content-security-policy"]).toContain("default-src 'none'; frame-ancestors");
  });

  it("only compliance officers and admins; another org's report is not found; the list is newest first with a cursor", async () => {
    const reportId = (await producedReport("demo")).reportId;
    for (const path of ["/reports", `/reports/${reportId}`, `/reports/${reportId}/html`])
      expect((await api("GET", path, { token: coach })).status).toBe(403);
    expect((await api("POST", "/reports", { token: coach })).status).toBe(403);
    for (const path of [`/reports/${reportId}`, `/reports/${reportId}/html`])
      expect((await api("GET", path, { token: otherOfficer })).status).toBe(404);
    const otherList = await api("GET", "/reports", { token: otherOfficer });
    expect(otherList.json.items.map((item: { reportId: string }) => item.reportId)).not.toContain(reportId);

    const second = (await producedReport("demo")).reportId;
    const first = await api("GET", "/reports?limit=1", { token: officer });
    expect(first.json.items[0].reportId).toBe(second);
    const next = await api("GET", `/reports?limit=1&cursor=${first.json.nextCursor}`, { token: officer });
    expect(next.json.items[0].reportId).toBe(reportId);
    expect((await api("GET", `/reports?cursor=${first.json.nextCursor}`, { token: admin })).status).toBe(400);
  });

  it("a pending report answers 409 REPORT_NOT_READY, not a document", async () => {
    const reportId = await pendingReport("demo");
    const res = await api("GET", `/reports/${reportId}`, { token: officer });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe("REPORT_NOT_READY");
  });
});

describe("the report job", () => {
  beforeAll(() => installFaultInjector());
  // A fault armed by a test that failed before it fired must not fire in the next one.
  afterEach(() => disarm());

  it("appends report.generated naming the signed JSON's SHA-256, once: a second run of the same report changes nothing", async () => {
    const orgId = `rpt-${Date.now()}`;
    const produced = await producedReport(orgId);
    const row = await getReportRow(orgId, produced.reportId);
    const json = (await readReportObject(row?.keys?.json as string)) as Buffer;
    expect(sha256(json)).toBe(produced.sha256);
    const [found, ...more] = await generatedEntries(orgId, produced.reportId);
    expect(more).toEqual([]);
    expect(found?.entry).toMatchObject({
      v: 3,
      action: "report.generated",
      actor: { type: "service", id: "job:complianceReport", orgId },
      resource: { type: "report", id: produced.reportId },
      digest: { sha256: produced.sha256 },
    });
    expect(found?.hashValid).toBe(true);

    const again = await produceReport(orgId, produced.reportId, reportJob());
    expect(again).toMatchObject({ already: true, sha256: produced.sha256 });
    expect(await generatedEntries(orgId, produced.reportId)).toHaveLength(1);
  });

  it("a failed KMS signature leaves the report failed, unaudited and unserved; the re-run completes it", async () => {
    const orgId = `rpt-kms-${Date.now()}`;
    const reportId = await pendingReport(orgId);
    arm({ target: { service: "kms", operation: "SignCommand", occurrence: 0 }, kind: "server" });
    await expect(produceOrRecordFailure(orgId, reportId, reportJob())).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
    });
    expect(recorded().fired).toBe(true);
    disarm();
    expect(await getReportRow(orgId, reportId)).toMatchObject({
      status: "failed",
      failure: "SERVICE_UNAVAILABLE",
    });
    expect(await generatedEntries(orgId, reportId)).toEqual([]);
    const completed = await produceReport(orgId, reportId, reportJob());
    expect(completed.already).toBe(false);
    expect((await getReportRow(orgId, reportId))?.status).toBe("done");
    expect(await generatedEntries(orgId, reportId)).toHaveLength(1);
  });

  it("an S3 write lost halfway (the JSON stored, its answer lost) leaves nothing done; the re-run reuses the signed set and completes it", async () => {
    const orgId = `rpt-s3-${Date.now()}`;
    const reportId = await pendingReport(orgId);
    // Puts: HTML, signature, JSON (the third): it takes effect, and the run never learns it did.
    arm({ target: { service: "s3", operation: "PutObjectCommand", occurrence: 2 }, kind: "timeout" });
    await expect(produceReport(orgId, reportId, reportJob())).rejects.toBeDefined();
    expect(recorded().fired).toBe(true);
    disarm();
    const staged = await getReportRow(orgId, reportId);
    expect(staged?.status).not.toBe("done");
    expect(await generatedEntries(orgId, reportId)).toEqual([]);
    arm();
    const completed = await produceReport(orgId, reportId, reportJob());
    const calls = recorded().calls.map((call) => `${call.service}:${call.operation}`);
    disarm();
    expect(completed.sha256).toBe(staged?.sha256);
    expect(calls).not.toContain("kms:SignCommand");
    expect(calls).not.toContain("s3:PutObjectCommand");
    expect((await generatedEntries(orgId, reportId))[0]?.entry).toMatchObject({
      digest: { sha256: staged?.sha256 },
    });
  });

  it("a report whose score drops by 5 or more, or whose critical check newly fails, is notified: ids, scores and check ids only", async () => {
    const orgId = `rpt-drop-${Date.now()}`;
    let criticalHolds = true;
    let highHolds = true;
    const checks = [
      check("test.critical-control", "critical", () => criticalHolds),
      check("test.high-control", "high", () => highHolds),
    ];
    const alertsOf = (reportId: string) =>
      readPublished(stack.dir)
        .filter((message) => message.topicArn === localAlarmTopicArn(getConfig().AWS_REGION))
        .map((message) => JSON.parse(message.message))
        .filter((message) => message.reportId === reportId);

    const first = await producedReport(orgId, checks);
    expect(first.score).toBe(100);
    expect(first.alert).toBeUndefined();
    highHolds = false;
    const dropped = await producedReport(orgId, checks);
    expect(alertsOf(dropped.reportId)).toEqual([
      {
        type: "compliance_report",
        orgId,
        reportId: dropped.reportId,
        previousReportId: first.reportId,
        score: dropped.score,
        previousScore: 100,
        scoreDrop: 100 - dropped.score,
        newlyFailedCritical: [],
      },
    ]);
    highHolds = true;
    criticalHolds = false;
    const critical = await producedReport(orgId, checks);
    expect(alertsOf(critical.reportId)[0]?.newlyFailedCritical).toEqual(["test.critical-control"]);
    // Still failing is not news, and an unchanged score is no drop.
    const same = await producedReport(orgId, checks);
    expect(same.alert).toBeUndefined();
    expect(alertsOf(same.reportId)).toEqual([]);
    // The history the next report builds on: the earlier scores, oldest first, then its own.
    const last = JSON.parse(
      ((await readReportObject(`${orgId}/reports/${same.reportId}.json`)) as Buffer).toString("utf8"),
    );
    expect(last.history.map((entry: { reportId: string }) => entry.reportId)).toEqual([
      first.reportId,
      dropped.reportId,
      critical.reportId,
      same.reportId,
    ]);
    expect(last.previous).toEqual({ reportId: critical.reportId, score: critical.score });
  });

  it("the scheduler starts one report per registered org that is due, and none while one is under way", async () => {
    const job = { service: "job:scheduleReports" };
    const now = new Date(Date.now() + 400 * 86_400_000); // every org's last report is long past due by then
    const first = await scheduleReports({}, job, now);
    expect(first.requested + first.restarted).toBe(first.orgs);
    // demo's latest report: a new scheduled one, or (a report of the demo org pending since this file
    // started, stalled by then) the same one started again.
    const latest = await latestReportRow("demo");
    const scheduled = latest?.trigger === "schedule" && latest.requestedBy === "job:scheduleReports";
    expect(scheduled || latest?.restartedAt === now.toISOString(), JSON.stringify(latest)).toBe(true);
    const second = await scheduleReports({}, job, now);
    expect(second).toMatchObject({ requested: 0, restarted: 0 });
    expect((await latestReportRow("demo"))?.reportId).toBe(latest?.reportId);
  });
});

describe("npm run report and npm run report:verify", () => {
  const tsx = (script: string, args: string[]) =>
    run(process.execPath, ["--import", "tsx", script, ...args], { env: process.env }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
  const verifyFile = (file: string) => tsx("infra/local/report-verify.ts", [file, "--dir", stack.dir]);

  it("writes the JSON, HTML and signature and prints the HTML's path last; verify accepts them and refuses one changed byte in any", async () => {
    const made = await tsx("infra/local/report.ts", ["--org", "demo", "--dir", stack.dir]);
    expect(made.code, made.stdout).toBe(0);
    const htmlPath = made.stdout.trim().split("\n").at(-1) as string;
    expect(htmlPath.startsWith(join(stack.dir, "reports", "demo"))).toBe(true);
    expect(htmlPath).toMatch(/\/[0-9a-f-]{36}\.html$/);
    const base = htmlPath.slice(0, -".html".length);
    const valid = await verifyFile(`${base}.json`);
    expect(valid.code, valid.stdout).toBe(0);
    expect(valid.stdout).toContain("VALID");

    const copy = (changed: "json" | "html" | "sig", change: (bytes: Buffer) => Buffer) => {
      const folder = mkdtempSync(join(tmpdir(), "report-tamper-"));
      for (const extension of ["json", "html", "sig"])
        copyFileSync(`${base}.${extension}`, join(folder, `report.${extension}`));
      const target = join(folder, `report.${changed}`);
      writeFileSync(target, change(readFileSync(target)));
      return join(folder, "report.json");
    };
    const flipAt = (index: (bytes: Buffer) => number) => (bytes: Buffer) => {
      const out = Buffer.from(bytes);
      const at = index(out);
      out[at] = (out[at] as number) ^ 0x01;
      return out;
    };
    // One byte of the JSON's content (inside the org id), one of the HTML, one of the signature itself.
    const jsonByte = flipAt((bytes) => bytes.indexOf('"orgId":"demo"') + '"orgId":"d'.length);
    const htmlByte = flipAt((bytes) => bytes.indexOf("<body") + 2);
    const sigByte = (bytes: Buffer) => {
      const sig = JSON.parse(bytes.toString("utf8"));
      sig.signature = flipAt((raw) => raw.length - 5)(Buffer.from(sig.signature, "base64")).toString(
        "base64",
      );
      return Buffer.from(JSON.stringify(sig));
    };
    for (const [changed, change, why] of [
      ["json", jsonByte, "not the document the signature covers"],
      ["html", htmlByte, "HTML beside it"],
      ["sig", sigByte, "does not verify"],
    ] as const) {
      const result = await verifyFile(copy(changed, change));
      expect(result.code, `${changed}: ${result.stdout}`).toBe(1);
      expect(result.stdout).toContain("INVALID");
      expect(result.stdout).toContain(why);
    }
    // A genuine report filed under another report's name, or checked as another org's, is not this one.
    const renamed = copy("json", (bytes) => bytes);
    const wrongName = await verifyFile(renamed);
    expect(wrongName.code, wrongName.stdout).toBe(1);
    expect(wrongName.stdout).toContain("not this one");
    const otherOrg = await tsx("infra/local/report-verify.ts", [
      `${base}.json`,
      "--dir",
      stack.dir,
      "--org",
      "other",
    ]);
    expect(otherOrg.code, otherOrg.stdout).toBe(1);
    expect(
      (await tsx("infra/local/report-verify.ts", [`${base}.json`, "--dir", stack.dir, "--org", "demo"])).code,
    ).toBe(0);
    // The same content reformatted: the signature still covers its canonical form, but the bytes a reader
    // reads are not the signed ones.
    const folder = mkdtempSync(join(tmpdir(), "report-reformatted-"));
    const id = base.split("/").at(-1) as string;
    for (const extension of ["html", "sig"])
      copyFileSync(`${base}.${extension}`, join(folder, `${id}.${extension}`));
    writeFileSync(
      join(folder, `${id}.json`),
      JSON.stringify(JSON.parse(readFileSync(`${base}.json`, "utf8")), null, 2),
    );
    const reformatted = await verifyFile(join(folder, `${id}.json`));
    expect(reformatted.code, reformatted.stdout).toBe(1);
    expect(reformatted.stdout).toContain("canonical text");
  });
});
