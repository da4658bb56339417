import { AppError } from "../errors";
import { logger } from "../log";
import type { CheckContext, CheckDefinition, Outcome } from "./check";
import { sectionOf } from "./check";
import { type CheckResult, CheckResultSchema } from "./report";

/** Checks evaluated at once: each may make a few AWS calls; more would only queue on the same clients. */
const CONCURRENCY = 6;

export type Evaluated = { results: CheckResult[]; carry: Record<string, unknown> };

/**
 * Runs every check against one context. A check that throws is `not_evaluated` with the error's code as
 * the reason (never `fail`: nothing was proved either way, and never `pass`), and one check's failure
 * never stops another. A `pass` with no evidence is turned into `not_evaluated`: the report never claims
 * a control holds without showing why.
 */
export async function evaluateChecks(
  checks: readonly CheckDefinition[],
  context: Omit<CheckContext, "carried">,
): Promise<Evaluated> {
  const outcomes: Outcome[] = new Array(checks.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < checks.length; index = next++) {
      const check = checks[index] as CheckDefinition;
      outcomes[index] = await outcomeOf(check, {
        ...context,
        carried: context.previous?.carry[check.id],
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, checks.length) }, worker));
  const carry: Record<string, unknown> = {};
  const results = checks.map((check, index) => {
    const outcome = outcomes[index] as Outcome;
    if ("carry" in outcome && outcome.carry !== undefined) carry[check.id] = outcome.carry;
    return withinSchema(check, resultOf(check, outcome));
  });
  return { results, carry };
}

async function outcomeOf(check: CheckDefinition, context: CheckContext): Promise<Outcome> {
  try {
    const outcome = await check.evaluate(context);
    if (outcome.status === "pass" && Object.keys(outcome.evidence).length === 0) {
      logger.error("compliance check passed without evidence", { check: check.id });
      return { status: "not_evaluated", reason: "The check reported a pass without evidence." };
    }
    return outcome;
  } catch (error) {
    if (error instanceof AppError) {
      logger.warn("compliance check not evaluated", { check: check.id, code: error.code, error });
      return { status: "not_evaluated", reason: `The evidence could not be read (${error.code}).` };
    }
    logger.error("compliance check failed unexpectedly", { check: check.id, error });
    return { status: "not_evaluated", reason: "The evidence could not be read (unexpected error)." };
  }
}

/**
 * A result the report's schema would refuse (evidence out of its bounds: a tampered table's 10 kB id, a
 * list too long) is `not_evaluated`, so one hostile item costs one check, never the whole report (which is
 * validated whole before it is signed).
 */
function withinSchema(check: CheckDefinition, result: CheckResult): CheckResult {
  if (CheckResultSchema.safeParse(result).success) return result;
  logger.error("compliance check evidence out of bounds", { check: check.id });
  return {
    ...resultOf(check, {
      status: "not_evaluated",
      reason: "The evidence read was out of the report's bounds (altered data?).",
    }),
    evidence: {},
  };
}

function resultOf(check: CheckDefinition, outcome: Outcome): CheckResult {
  const common = {
    id: check.id,
    title: check.title,
    hipaa: check.hipaa,
    section: sectionOf(check.hipaa),
    layer: check.layer,
    status: outcome.status,
    severity: check.severity,
    weight: check.weight,
    evidence: { ...(outcome.evidence ?? {}) },
  };
  switch (outcome.status) {
    case "pass":
      return common;
    case "fail":
      return { ...common, remediation: outcome.remediation ?? check.remediation };
    default:
      return { ...common, reason: outcome.reason };
  }
}
