import { openField, sealField } from "./field-cipher";

/**
 * Sealing a whole record's PHI fields, each bound to org, client, record, field and version.
 * Every feature (clients, sessions, notes, grants) stores its PHI through these two functions.
 */
export type RecordRef = { orgId: string; clientId: string; recordId: string; version: number };

export function sealRecord(
  key: Buffer,
  ref: RecordRef,
  values: Record<string, unknown>,
): Record<string, string> {
  const sealed: Record<string, string> = {};
  for (const [field, value] of Object.entries(values)) {
    if (value !== undefined) sealed[field] = sealField(key, value, { ...ref, field });
  }
  return sealed;
}

export function openRecord(
  key: Buffer,
  ref: RecordRef,
  sealed: Record<string, string>,
  fields: Iterable<string> = Object.keys(sealed),
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    const value = sealed[field];
    if (value !== undefined) values[field] = openField(key, value, { ...ref, field });
  }
  return values;
}
