import type { CheckDefinition } from "../check";
import { auditChecks } from "./audit";
import { dataChecks } from "./data";
import { identityChecks } from "./identity";
import { infrastructureChecks } from "./infrastructure";
import { monitoringChecks } from "./monitoring";
import { organizationalChecks } from "./organizational";
import { settingsChecks } from "./settings";

/**
 * Every check a report runs, in the order the report lists them. A new check is one entry in one of these
 * lists (and a test beside it); the engine, the score and the outputs never change for it.
 */
export const CHECKS: readonly CheckDefinition[] = [
  ...settingsChecks,
  ...auditChecks,
  ...monitoringChecks,
  ...identityChecks,
  ...dataChecks,
  ...infrastructureChecks,
  ...organizationalChecks,
];
