import { parseArgs } from "node:util";
import { runSmoke, type SmokeTarget } from "./steps";
import { cloudTarget, localTarget } from "./targets";

export const USAGE =
  "usage: npm run smoke -- --stage <name> [--region <region>] [--origin <https://…>] | --stage local [--dir .local]";
/** The name of the step that finds what to test, so a failure there is reported like any other step's. */
export const FIND_TARGET_STEP = "find the stage's endpoints and smoke users";

/**
 * `npm run smoke -- --stage <name>`: the post-deploy smoke test (`./steps.ts`). `--stage local` tests the
 * local stack whose files are in `--dir` (default `.local`); any other stage is a deployed one, found with
 * the caller's AWS credentials. Returns the exit code: 0 passed, 1 a step failed (named on the output),
 * 2 the arguments are wrong. `wrapTarget` lets a test break one answer on purpose.
 */
export async function main(
  argv: readonly string[],
  print: (line: string) => void,
  wrapTarget: (target: SmokeTarget) => SmokeTarget = (target) => target,
): Promise<number> {
  let values: { stage?: string; region?: string; origin?: string; dir?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        stage: { type: "string" },
        region: { type: "string" },
        origin: { type: "string" },
        dir: { type: "string", default: ".local" },
      },
    }));
  } catch {
    print(USAGE);
    return 2;
  }
  const { stage } = values;
  if (!stage) {
    print(USAGE);
    return 2;
  }
  let target: SmokeTarget;
  try {
    target =
      stage === "local"
        ? localTarget(values.dir ?? ".local", values.origin)
        : await cloudTarget(stage, {
            ...(values.region && { region: values.region }),
            ...(values.origin && { origin: values.origin }),
          });
  } catch (error) {
    print(`  FAIL  ${FIND_TARGET_STEP}: ${error instanceof Error ? error.message : "failed"}`);
    print(`smoke test failed at step "${FIND_TARGET_STEP}"`);
    return 1;
  }
  const result = await runSmoke(wrapTarget(target), print);
  if (result.ok) return 0;
  print(`smoke test failed at step "${result.step}"`);
  return 1;
}
