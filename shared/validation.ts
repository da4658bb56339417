import type * as z from "zod";
import { type FieldIssue, ValidationError } from "./errors";

const SAFE_FIELD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Turns one Zod issue into field + rule; never the submitted value (which may be PHI). */
function toFieldIssues(issue: z.core.$ZodIssue, part: string, input: unknown): FieldIssue[] {
  const at = (path: readonly PropertyKey[]) => [part, ...path.map(String)].join(".");
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({
        field: SAFE_FIELD_NAME.test(key) ? at([...issue.path, key]) : at([...issue.path, "(unknown)"]),
        rule: "unknown_field",
      }));
    case "invalid_type":
      return [
        {
          field: at(issue.path),
          rule: valueAt(input, issue.path) === undefined ? "required" : `type:${issue.expected}`,
        },
      ];
    case "too_big":
      return [{ field: at(issue.path), rule: `max:${String(issue.maximum)}` }];
    case "too_small":
      return [{ field: at(issue.path), rule: `min:${String(issue.minimum)}` }];
    case "invalid_format":
      return [{ field: at(issue.path), rule: `format:${issue.format}` }];
    case "invalid_value":
      return [{ field: at(issue.path), rule: "one_of" }];
    case "custom":
      return [{ field: at(issue.path), rule: String(issue.params?.rule ?? "custom") }];
    default:
      return [{ field: at(issue.path), rule: issue.code }];
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Parses one part of a request (body, query, path) against its schema or throws a ValidationError. */
export function validatePart<S extends z.ZodType>(schema: S, value: unknown, part: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(result.error.issues.flatMap((issue) => toFieldIssues(issue, part, value)));
}
