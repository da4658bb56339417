import { AsyncLocalStorage } from "node:async_hooks";
import type { AuditEntry } from "./entry";

/**
 * Which PHI a body carries, as the audit field names an entry must list. Each route declares in the
 * manifest where its records sit and which of their properties are PHI (`PhiFields`); the pipeline
 * compares what a response carries with what the request's committed audit entries name, and the
 * services build their entries' `fields` from the same declarations, so one rule holds for every route:
 * an entry names exactly the PHI fields the response carried, plus those the request wrote.
 */
type FieldName = string | readonly string[] | ((record: Record<string, unknown>) => string);
export type PhiFields = {
  /** The list property holding the records (`items`); absent when the body is one record. */
  list?: string;
  /** Record property → the audit field name(s) it stands for (a function chooses by the record). */
  fields: Readonly<Record<string, FieldName>>;
};

/** PHI declared by property names that are also the audit field names (the common case). */
export function phiFields(names: readonly string[], list?: string): PhiFields {
  return { ...(list && { list }), fields: Object.fromEntries(names.map((name) => [name, name])) };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function namesIn(record: Record<string, unknown>, spec: PhiFields): string[] {
  return Object.entries(spec.fields).flatMap(([property, name]) => {
    if (record[property] === undefined) return [];
    return typeof name === "function" ? [name(record)] : [name].flat();
  });
}

/** The audit field names of the PHI in `body` (sorted, without repeats). */
export function phiFieldsIn(spec: PhiFields | undefined, body: unknown): string[] {
  if (!spec || !isRecord(body)) return [];
  const records = spec.list ? body[spec.list] : [body];
  if (!Array.isArray(records)) return [];
  return [...new Set(records.filter(isRecord).flatMap((record) => namesIn(record, spec)))].sort();
}

/** The entries this invocation committed, for the pipeline's check; `undefined` outside a request. */
const committed = new AsyncLocalStorage<AuditEntry[]>();

export async function recordingAppends<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; appended: AuditEntry[] }> {
  const appended: AuditEntry[] = [];
  const result = await committed.run(appended, fn);
  return { result, appended };
}

/** Called by the chain writer once an entry has committed. */
export function noteAppended(entry: AuditEntry): void {
  committed.getStore()?.push(entry);
}

/** The PHI fields `body` carries that no successful committed entry names (empty when all are named). */
export function unnamedPhi(spec: PhiFields | undefined, body: unknown, appended: readonly AuditEntry[]) {
  const named = new Set(
    appended.filter((entry) => entry.outcome === "success").flatMap((entry) => entry.fields),
  );
  return phiFieldsIn(spec, body).filter((field) => !named.has(field));
}
