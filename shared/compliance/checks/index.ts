import type { CheckDefinition } from "../check";
import { infrastructureChecks } from "./infrastructure";
import { organizationalChecks } from "./organizational";
import { settingsChecks } from "./settings";

/**
 * Every check a report runs, in the order the report lists them. A new check is one entry in one of these
 * lists (and a test beside it); the engine, the score and the outputs never change for it.
 */
export const CHECKS: readonly CheckDefinition[] = [
  ...settingsChecks,
  ...infrastructureChecks,
  ...organizationalChecks,
];
