import { execFileSync } from "node:child_process";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { jobs } from "../../functions/jobs";
import { routeList } from "../../functions/routes";
import { BUNDLING } from "../../infra/cloud/functions";

/**
 * Bundles each route's and each scheduled job's handler exactly as the CDK app does (same esbuild settings) and measures the
 * bundle size and the cold module import time in a fresh Node process (median of a few runs).
 */
export async function measureBundles(outDir: string, runs = 5) {
  mkdirSync(outDir, { recursive: true });
  const results: { function: string; bytes: number; importMs: number }[] = [];
  const functions = [
    ...routeList.map((route) => ({ id: route.id, handler: route.handler })),
    ...Object.entries(jobs).map(([id, job]) => ({ id, handler: job.handler })),
  ];
  for (const fn of functions) {
    const outfile = join(outDir, `${fn.id}.mjs`);
    await build({
      entryPoints: [`functions/${fn.handler}.ts`],
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
      function: fn.id,
      bytes: statSync(outfile).size,
      importMs: samples[Math.floor(runs / 2)] ?? 0,
    });
  }
  return results;
}
