import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { type OrgVerification, type VerifyFrom, verifyOrg } from "../../shared/audit";
import { endpointsFile, readEndpoints, useLocalStack } from "./stack";

/**
 * `npm run audit:verify -- --org <orgId> [--from genesis|latest|<n>] [--cloud]`: checks an org's audit
 * chains — each sequence number, each link to the previous hash, each hash of the canonical entry — and
 * its signed checkpoints: signature, link to the previous one, Merkle root, and the chain heads each
 * pinned. From genesis (the default) every entry is read; from a checkpoint, only what follows the heads
 * it pinned. Runs against the local stack (`.local/endpoints.json`), or, with `--cloud`, against the
 * resources named in the environment with the caller's AWS credentials.
 * Exit 0 when intact; 1 naming the first bad entry or checkpoint; 2 when it cannot run.
 */
const { values } = parseArgs({
  options: {
    org: { type: "string" },
    from: { type: "string", default: "genesis" },
    dir: { type: "string", default: ".local" },
    cloud: { type: "boolean", default: false },
  },
});

function parseFrom(text: string): VerifyFrom {
  if (text === "genesis" || text === "latest") return text;
  if (/^[1-9]\d{0,11}$/.test(text)) return Number(text);
  throw new Error("--from must be genesis, latest or a checkpoint number");
}

function report(result: OrgVerification): string[] {
  const lines = result.chains.map((chain) => {
    const status = chain.problem ? `BROKEN at seq ${chain.problem.seq}: ${chain.problem.problem}` : "intact";
    return `${chain.chain}  ${String(chain.entries).padStart(7)} entries  ${status}`;
  });
  const start = result.fromCheckpoint ? `from checkpoint #${result.fromCheckpoint}` : "from genesis";
  const pinned = result.checkpointProblem;
  lines.push(
    pinned
      ? `checkpoint #${pinned.checkpoint}: ${pinned.problem}${pinned.chain ? ` (${pinned.chain})` : ""}`
      : `${result.checkpoints} signed checkpoints verified`,
  );
  const index = result.indexProblem;
  if (index)
    lines.push(
      index.problem === "index-attribute"
        ? `index: entry ${index.chain} #${index.seq} has attribute '${index.attribute}' that its entry does not imply`
        : index.problem === "missing-disclosure"
          ? `disclosure index: entry ${index.chain} #${index.seq} is missing from client ${index.clientId}'s accounting`
          : `disclosure index: the pointers of the entries from ${index.chain} #${index.seq} cannot be read`,
    );
  const bad = result.entryProblem;
  lines.push(
    bad
      ? `Audit trail of ${result.orgId} is NOT intact: first bad entry ${bad.chain} #${bad.seq} (${bad.problem}).`
      : pinned
        ? `Audit trail of ${result.orgId} is NOT intact: it no longer matches checkpoint #${pinned.checkpoint} (${pinned.problem}).`
        : index
          ? `Audit chains of ${result.orgId} are intact, but their indexes were tampered with.`
          : `Audit trail of ${result.orgId} is intact ${start}: ${result.entries} entries in ${result.chains.length} chains.`,
  );
  return lines;
}

try {
  if (!values.org)
    throw new Error("usage: npm run audit:verify -- --org <orgId> [--from genesis|latest|<n>] [--cloud]");
  const from = parseFrom(values.from ?? "genesis");
  const dir = values.dir ?? ".local";
  if (!values.cloud) {
    if (!existsSync(endpointsFile(dir)))
      throw new Error("no local stack found (start it with npm start, or pass --cloud)");
    useLocalStack(readEndpoints(dir));
  }
  const result = await verifyOrg(values.org, from);
  for (const line of report(result)) console.log(line);
  process.exit(result.intact ? 0 : 1);
} catch (error) {
  console.error(error instanceof Error ? error.message : "verification failed");
  process.exit(2);
}
