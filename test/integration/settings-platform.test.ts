import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DeleteCommand, GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import {
  BUILT_IN_SETTINGS,
  forgetCachedSettings,
  PLATFORM_SETTINGS_ID,
  tenantSettings,
} from "../../shared/settings";
import { testStack } from "../support/stack";

/** `npm run settings:platform -- <file.json>` against the local stack: validated, then stored as the next version. */
const stack = testStack();
const files = mkdtempSync(join(tmpdir(), "settings-platform-"));
const fileWith = (name: string, content: unknown) => {
  const path = join(files, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
};
const run = (file: string) =>
  promisify(execFile)("npx", ["tsx", "infra/local/settings-platform.ts", file, "--dir", stack.dir]).then(
    (out) => ({ code: 0, ...out }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
const stored = async () =>
  (
    await aws("dynamo").send(
      new GetCommand({
        TableName: getConfig().TABLE_SETTINGS,
        Key: { id: PLATFORM_SETTINGS_ID },
        ConsistentRead: true,
      }),
    )
  ).Item;

afterAll(async () => {
  await aws("dynamo").send(
    new DeleteCommand({ TableName: getConfig().TABLE_SETTINGS, Key: { id: PLATFORM_SETTINGS_ID } }),
  );
  forgetCachedSettings();
});

describe("npm run settings:platform", () => {
  it("refuses a document out of the schema, naming field and rule, and stores nothing", async () => {
    const refused = await run(fileWith("bad.json", { retentionYears: 9, reports: { recipients: ["x@"] } }));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("refused: settings.retentionYears: max:7");
    expect(refused.stderr).toContain("refused: settings.reports.recipients.0: format:email");
    expect(refused.stderr).not.toContain("x@");
    expect(await stored()).toBeUndefined();
  });

  it("stores a valid document whole as the next version; every org without its own then gets it", async () => {
    const first = await run(fileWith("v1.json", { retentionYears: 6 }));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("version 1");
    const second = await run(fileWith("v2.json", { retentionYears: 5, detectors: { afterHoursReads: 3 } }));
    expect(second.stdout).toContain("version 2");
    const item = await stored();
    expect(item).toMatchObject({ version: 2, updatedBy: "operator:settings:platform" });
    expect(JSON.parse(item?.value)).toEqual({
      ...BUILT_IN_SETTINGS,
      retentionYears: 5,
      detectors: { ...BUILT_IN_SETTINGS.detectors, afterHoursReads: 3 },
    });
    forgetCachedSettings();
    expect((await tenantSettings("no-such-org")).retentionYears).toBe(5);
  });
});
