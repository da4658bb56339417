// Run by every function's bundling after esbuild (functions.ts, `afterBundling`), as plain JavaScript so
// that it needs nothing but node: `node portable-source-map.mjs <bundle dir> <project root>`.
//
// esbuild writes each source map's `sources` relative to the directory it bundles into, which CDK puts
// under the cloud assembly (`cdk.out/bundling-temp-…`, or wherever `-o` points). The map is part of the
// asset, and the asset's hash is the hash of its files: so the same code bundled from another checkout
// or into another output directory would get new hashes, and a deploy from there would replace every
// function. This rewrites the sources relative to the project (`functions/…`, `shared/…`) and packages
// relative to their `node_modules` (wherever that folder really is: it may be a link to another
// checkout's), so the map, and the hash, depend on the code alone. In Lambda the map sits in /var/task,
// so `--enable-source-maps` shows frames as /var/task/functions/… and /var/task/node_modules/….
import { readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";

const [bundleDir, projectRoot] = process.argv.slice(2);
if (!bundleDir || !projectRoot) throw new Error("usage: portable-source-map.mjs <bundle dir> <project root>");

const root = realpathSync(projectRoot);
const NODE_MODULES = `${sep}node_modules${sep}`;

/** A source's path that names the code, not the machine: relative to the project, or to its packages. */
function portable(bundleRelative) {
  const absolute = resolve(bundleDir, bundleRelative);
  const inProject = relative(root, absolute);
  if (!inProject.startsWith(`..${sep}`) && !isAbsolute(inProject)) return inProject.split(sep).join("/");
  const packages = absolute.indexOf(NODE_MODULES);
  if (packages >= 0)
    return absolute
      .slice(packages + 1)
      .split(sep)
      .join("/");
  throw new Error(`source ${absolute} is neither in the project nor in a node_modules folder`);
}

for (const file of readdirSync(bundleDir).filter((name) => name.endsWith(".map"))) {
  const path = join(bundleDir, file);
  const map = JSON.parse(readFileSync(path, "utf8"));
  map.sources = map.sources.map(portable);
  writeFileSync(path, JSON.stringify(map));
}
