import { parseArgs } from "node:util";
import { run as checkpointJob } from "../../functions/audit/checkpoint.job";
import { writeCheckpoint } from "../../shared/audit";
import { readEndpoints, useLocalStack } from "./stack";

/**
 * `npm run audit:checkpoint`: runs the scheduled checkpoint job once against the local stack (every
 * registered org whose chains moved). `-- --org <orgId>` writes that org's next checkpoint regardless.
 */
const { values } = parseArgs({
  options: { org: { type: "string" }, dir: { type: "string", default: ".local" } },
});
try {
  useLocalStack(readEndpoints(values.dir ?? ".local"));
  if (values.org) {
    const { checkpoint } = await writeCheckpoint(values.org);
    console.log(
      `checkpoint #${checkpoint.number} of ${values.org}: ${checkpoint.heads.length} chains, merkle root ${checkpoint.merkleRoot}`,
    );
  } else {
    const { orgs, written } = await checkpointJob();
    console.log(`${written} checkpoint(s) written for ${orgs} registered org(s)`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : "checkpoint failed");
  process.exit(2);
}
