import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { v7 as timeOrderedId } from "uuid";
import { jobMeta } from "../../shared/audit";
import { ORG_ID } from "../../shared/auth";
import { produceOrRecordFailure } from "../../shared/compliance/produce";
import { putPendingReport } from "../../shared/compliance/store";
import { serviceName } from "../../shared/jobs";
import { readEndpoints, useLocalStack } from "./stack";

/**
 * `npm run report -- --org <orgId>`: produces a compliance report of the org against the running local
 * stack (`npm start`), through the same code as the `complianceReport` job (signed with the local KMS,
 * stored in the local reports bucket, `report.generated` appended to the org's audit chain), and writes
 * `<dir>/reports/<org>/<reportId>.json`, `.html` and `.sig`, printing the HTML's path last.
 * Exit 0 when written; 2 when it cannot run.
 */
const { values } = parseArgs({
  options: { org: { type: "string" }, dir: { type: "string", default: ".local" } },
});
try {
  const orgId = values.org ?? "";
  if (!ORG_ID.test(orgId)) throw new Error("usage: npm run report -- --org <orgId>");
  const dir = values.dir ?? ".local";
  useLocalStack(readEndpoints(dir));
  const reportId = timeOrderedId();
  const service = serviceName("complianceReport");
  await putPendingReport({
    orgId,
    reportId,
    requestedBy: "local:npm-run-report",
    requestedAt: new Date().toISOString(),
    trigger: "on_demand",
  });
  const produced = await produceOrRecordFailure(orgId, reportId, {
    service,
    meta: jobMeta(randomUUID(), service),
  });
  const documents = produced.documents;
  if (!documents) throw new Error("the report was produced by another run");
  const folder = resolve(join(dir, "reports", orgId));
  mkdirSync(folder, { recursive: true });
  const path = (extension: string) => join(folder, `${reportId}.${extension}`);
  writeFileSync(path("json"), documents.json);
  writeFileSync(path("sig"), documents.sig);
  writeFileSync(path("html"), documents.html);
  console.log(`report ${reportId} of ${orgId}: score ${produced.score}, sha256 ${produced.sha256}`);
  console.log(`signed JSON: ${path("json")}`);
  console.log(`signature:   ${path("sig")}`);
  console.log(path("html"));
} catch (error) {
  console.error(error instanceof Error ? error.message : "report failed");
  process.exit(2);
}
