/**
 * How a settings PATCH applies: objects merge key by key, anything else (numbers, strings, arrays such as
 * the business days or report recipients) is replaced whole. Pure, so it is tested on its own.
 */
type Json = unknown;
const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function mergeSettings<T>(current: T, patch: Json): T {
  return merge(current, patch) as T;
}

function merge(current: Json, patch: Json): Json {
  if (patch === undefined) return current;
  if (!isObject(current) || !isObject(patch)) return patch;
  const keys = new Set([...Object.keys(current), ...Object.keys(patch)]);
  return Object.fromEntries([...keys].map((key) => [key, merge(current[key], patch[key])]));
}

/** The key paths (`rateLimits.perRole.coach`) whose values differ between two documents, sorted. */
export function changedPaths(before: Json, after: Json, prefix = ""): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => changedPaths(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}
