import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { chainId, readOrgChains, verifyChains, verifyCheckpoints } from "../../shared/audit";
import { getConfig } from "../../shared/config";
import { endpointsFile, readEndpoints, useLocalStack } from "./stack";

/**
 * `npm run audit:verify -- --org <orgId>`: checks every audit chain of an org from genesis — each
 * sequence number, each link to the previous hash, each hash of the canonical entry — and every
 * signed checkpoint: signature, link to the previous one, and the chain heads it pinned. Runs against the
 * local stack (`.local/endpoints.json`), or, with `--cloud`, against the tables named in the
 * environment with the caller's AWS credentials. Exit 0 when intact; 1 naming the first bad entry.
 */
const { values } = parseArgs({
  options: {
    org: { type: "string" },
    dir: { type: "string", default: ".local" },
    cloud: { type: "boolean", default: false },
  },
});

try {
  if (!values.org) throw new Error("usage: npm run audit:verify -- --org <orgId> [--cloud]");
  const dir = values.dir ?? ".local";
  if (!values.cloud) {
    if (!existsSync(endpointsFile(dir)))
      throw new Error("no local stack found (start it with npm start, or pass --cloud)");
    useLocalStack(readEndpoints(dir));
  }
  const chains = await readOrgChains(values.org);
  const ids = chains.map((_, shard) => chainId(values.org as string, shard));
  const reports = verifyChains(chains, ids);
  for (const report of reports) {
    const status = report.problem
      ? `BROKEN at seq ${report.problem.seq}: ${report.problem.problem}`
      : "intact";
    console.log(`${report.chain}  ${String(report.entries).padStart(7)} entries  ${status}`);
  }
  const broken = reports.find((report) => report.problem);
  const pinned = await verifyCheckpoints(
    values.org,
    new Map(ids.map((id, shard) => [id, chains[shard] ?? []])),
  );
  if (pinned.problem) {
    const where = pinned.problem.chain ? ` (${pinned.problem.chain})` : "";
    console.log(`checkpoint #${pinned.problem.checkpoint}: ${pinned.problem.problem}${where}`);
  } else {
    console.log(`${pinned.checkpoints} signed checkpoints verified`);
  }
  console.log(
    broken
      ? `Audit trail of ${values.org} is NOT intact: first bad entry ${broken.chain} #${broken.problem?.seq} (${broken.problem?.problem}).`
      : pinned.problem
        ? `Audit trail of ${values.org} is NOT intact: it no longer matches checkpoint #${pinned.problem.checkpoint} (${pinned.problem.problem}).`
        : `Audit trail of ${values.org} is intact: ${reports.reduce((n, r) => n + r.entries, 0)} entries in ${getConfig().AUDIT_SHARDS} chains.`,
  );
  process.exit(broken || pinned.problem ? 1 : 0);
} catch (error) {
  console.error(error instanceof Error ? error.message : "verification failed");
  process.exit(2);
}
