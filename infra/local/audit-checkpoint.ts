import { parseArgs } from "node:util";
import { writeCheckpoint } from "../../shared/audit";
import { readEndpoints, useLocalStack } from "./stack";

/**
 * `npm run audit:checkpoint -- --org <orgId>`: writes the org's next signed checkpoint against the
 * local stack (what the scheduled checkpoint function will do every 5 minutes in the cloud).
 */
const { values } = parseArgs({
  options: { org: { type: "string" }, dir: { type: "string", default: ".local" } },
});
try {
  if (!values.org) throw new Error("usage: npm run audit:checkpoint -- --org <orgId>");
  useLocalStack(readEndpoints(values.dir ?? ".local"));
  const { checkpoint } = await writeCheckpoint(values.org);
  console.log(
    `checkpoint #${checkpoint.number} of ${values.org}: ${checkpoint.heads.length} chains, merkle root ${checkpoint.merkleRoot}`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : "checkpoint failed");
  process.exit(2);
}
