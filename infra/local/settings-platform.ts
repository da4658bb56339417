import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CloudFormationClient, ListExportsCommand } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { ValidationError, VersionConflictError } from "../../shared/errors";
import { PLATFORM_SETTINGS_ID, settingsPut, TenantSettingsSchema } from "../../shared/settings";
import { validatePart } from "../../shared/validation";
import { exportName } from "../cloud/handover";
import { stageDefaults } from "../smoke/targets";
import { endpointsFile, readEndpoints, useLocalStack } from "./stack";

/**
 * `npm run settings:platform -- <file.json> [--stage <name> [--region <region>]] [--dir .local]`: validates
 * a settings document with the tenant settings schema and stores it whole as the platform default (what
 * every org without a document of its own gets), as the next version of the stored one. Against the local
 * stack by default; with `--stage`, against that deployed stage's settings table (found by its stack
 * export) with the caller's AWS credentials. A document out of the schema's bounds is refused naming the
 * field and rule. Functions see it within SETTINGS_MAX_AGE_SECONDS. Exit 0 when stored; 1 when refused;
 * 2 when it cannot run.
 */
const USAGE =
  "usage: npm run settings:platform -- <file.json> [--stage <name> [--region <region>]] [--dir .local]";

/** Stores `document` (validated) as the platform's settings; returns the version written. */
export async function putPlatformSettings(
  document: unknown,
  target: { client: DynamoDBDocumentClient; table: string },
  updatedBy = "operator:settings:platform",
): Promise<number> {
  const settings = validatePart(TenantSettingsSchema, document, "settings");
  const stored = await target.client.send(
    new GetCommand({ TableName: target.table, Key: { id: PLATFORM_SETTINGS_ID }, ConsistentRead: true }),
  );
  const expected = Number(stored.Item?.version ?? 0);
  const put = settingsPut(PLATFORM_SETTINGS_ID, settings, expected, {
    updatedAt: new Date().toISOString(),
    updatedBy,
  }).item.Put;
  try {
    await target.client.send(new PutCommand(put as ConstructorParameters<typeof PutCommand>[0]));
  } catch (error) {
    if ((error as { name?: string }).name === "ConditionalCheckFailedException")
      throw new VersionConflictError();
    throw error;
  }
  return expected + 1;
}

/** The deployed stage's settings table, from the stateful stack's export of it (handover.ts). */
async function stageTable(stage: string, region: string | undefined): Promise<string> {
  const name = exportName(stage, ["tables", "settings", "name"]);
  const cloudFormation = new CloudFormationClient(region ? { region } : {});
  let NextToken: string | undefined;
  do {
    const page = await cloudFormation.send(new ListExportsCommand({ ...(NextToken && { NextToken }) }));
    const found = page.Exports?.find((exported) => exported.Name === name)?.Value;
    if (found) return found;
    NextToken = page.NextToken;
  } while (NextToken);
  throw new Error(`no export ${name}: is stage ${stage} deployed in this region?`);
}

async function main(): Promise<void> {
  let args: { positionals: string[]; values: { stage?: string; region?: string; dir?: string } };
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        stage: { type: "string" },
        region: { type: "string" },
        dir: { type: "string", default: ".local" },
      },
    });
  } catch {
    console.error(USAGE);
    process.exit(1);
  }
  const [file, ...rest] = args.positionals;
  if (!file || rest.length > 0) {
    console.error(USAGE);
    process.exit(1);
  }
  const { stage, region, dir = ".local" } = args.values;
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    console.error(`${file} is not a readable JSON file`);
    process.exit(1);
  }
  try {
    let target: { client: DynamoDBDocumentClient; table: string };
    if (stage) {
      // The operator's tool, not a function: its client is built from the region alone (as the smoke test's).
      const stageRegion = region ?? stageDefaults(stage).region;
      const client = DynamoDBDocumentClient.from(
        new DynamoDBClient(stageRegion ? { region: stageRegion } : {}),
      );
      target = { client, table: await stageTable(stage, stageRegion) };
    } else {
      if (!existsSync(endpointsFile(dir)))
        throw new Error("no local stack found (start it with npm start, or pass --stage)");
      useLocalStack(readEndpoints(dir));
      target = { client: aws("dynamo"), table: getConfig().TABLE_SETTINGS };
    }
    const version = await putPlatformSettings(document, target);
    console.log(
      `platform settings stored as version ${version} (${stage ? `stage ${stage}` : "local stack"})`,
    );
  } catch (error) {
    if (error instanceof ValidationError) {
      for (const issue of error.details ?? []) console.error(`refused: ${issue.field}: ${issue.rule}`);
      process.exit(1);
    }
    if (error instanceof VersionConflictError) {
      console.error("refused: the platform settings changed while this ran; run it again");
      process.exit(1);
    }
    console.error(error instanceof Error ? error.message : "settings:platform failed");
    process.exit(2);
  }
}

if (process.argv[1]?.endsWith("settings-platform.ts")) await main();
