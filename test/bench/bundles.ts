import { execFileSync } from "node:child_process";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { routeList } from "../../functions/routes";
import { BUNDLING } from "../../infra/cloud/functions";

/**
 * Bundles each route's handler exactly as the CDK app does (same esbuild settings) and measures the
 * bundle size and the cold module import time in a fresh Node process (median of a few runs).
 */
export async function measureBundles(outDir: string, runs = 5) {
  mkdirSync(outDir, { recursive: true });
  const results: { route: string; bytes: number; importMs: number }[] = [];
  for (const route of routeList) {
    const outfile = join(outDir, `${route.id}.mjs`);
    await build({
      entryPoints: [`functions/${route.handler}.ts`],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: BUNDLING.target,
      minify: BUNDLING.minify,
      mainFields: BUNDLING.mainFields,
      external: BUNDLING.externalModules,
      banner: { js: BUNDLING.banner },
      logLevel: "silent",
    });
    const samples = Array.from({ length: runs }, () =>
      Number(
        execFileSync(
          process.execPath,
          [
            "--input-type=module",
            "-e",
            `const t=performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now()-t)`,
          ],
          { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
        ).trim(),
      ),
    ).sort((a, b) => a - b);
    results.push({
      route: route.id,
      bytes: statSync(outfile).size,
      importMs: samples[Math.floor(runs / 2)] ?? 0,
    });
  }
  return results;
}
