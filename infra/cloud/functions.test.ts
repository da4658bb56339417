import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App, RemovalPolicy, Stack } from "aws-cdk-lib";
import { Key } from "aws-cdk-lib/aws-kms";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { afterAll, describe, expect, it } from "vitest";
import type * as Functions from "./functions";

const projectRoot = fileURLToPath(new URL("../../", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "coachvault-assets-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A route with packages behind it (zod, middy, Powertools) and one with little: both kinds of sources. */
const SAMPLES = [
  { id: "health", handler: "health/get" },
  { id: "createClient", handler: "clients/create" },
];

/** The project as another checkout at another path (its packages linked, as a worktree's may be). */
function checkoutElsewhere(): string {
  const copy = join(scratch, "some", "other", "checkout");
  for (const entry of ["functions", "shared", "infra", "package.json", "package-lock.json", "tsconfig.json"])
    cpSync(join(projectRoot, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(projectRoot, "node_modules"), join(copy, "node_modules"));
  return copy;
}

/** Each sample function's asset hash and source map, bundled by `functions.ts` of `root` into `outdir`. */
async function bundle(root: string, outdir: string) {
  const { bundledFunction } = (await import(join(root, "infra/cloud/functions.ts"))) as typeof Functions;
  const app = new App({ outdir });
  const stack = new Stack(app, "Assets");
  const defaults = {
    environment: {},
    logsKey: new Key(stack, "Logs"),
    logRetention: RetentionDays.ONE_DAY,
    logRemoval: RemovalPolicy.DESTROY,
    // No permissions are asked for: nothing reads the targets.
    permissions: {} as Functions.FunctionDefaults["permissions"],
  };
  const functions = SAMPLES.map((sample) => bundledFunction(stack, { ...sample, permissions: [] }, defaults));
  const assembly = app.synth();
  const resources = assembly.getStackByName("Assets").template.Resources as Record<string, any>;
  return functions.map(({ fn }) => {
    const code = resources[stack.getLogicalId(fn.node.defaultChild as never)].Properties.Code;
    const hash = String(code.S3Key).replace(/\.zip$/, "");
    const map = JSON.parse(readFileSync(join(outdir, `asset.${hash}`, "index.mjs.map"), "utf8"));
    return { hash, sources: map.sources as string[] };
  });
}

describe("function assets", () => {
  it("hash the same from another checkout into another output directory (source maps name no local path)", async () => {
    const here = await bundle(projectRoot, mkdtempSync(join(scratch, "out-")));
    const there = await bundle(
      checkoutElsewhere(),
      join(mkdtempSync(join(scratch, "b-")), "deeper", "cdk.out"),
    );
    expect(there.map((asset) => asset.hash)).toEqual(here.map((asset) => asset.hash));
    expect(new Set(here.map((asset) => asset.hash)).size).toBe(SAMPLES.length);
    for (const { sources } of here) {
      expect(sources).toContain(sources.find((source) => source.startsWith("functions/")));
      expect(sources.some((source) => source.startsWith("node_modules/"))).toBe(true);
      for (const source of sources) expect(source).toMatch(/^(functions|shared|node_modules)\//);
    }
  });
});
