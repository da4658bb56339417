import { hash } from "node:crypto";
import canonicalize from "canonicalize";
import type { Relationship } from "../auth/policy";

/**
 * Audit entry, schema version 2 (documented in docs/audit-entry.md). Field names only, never values:
 * an entry says that a field was read or written, not what it held. Version 1 entries (before `basis`)
 * stay in the chains unchanged and verify the same way: a hash covers whatever the entry's version holds.
 */
export type AuditEntry = {
  v: 2;
  time: string;
  actor: { type: "user" | "service"; id: string; role: string; orgId: string };
  action: string;
  /** `clientIds` names every data subject whose PHI a list disclosed. */
  resource: { type: string; id: string; clientId?: string; clientIds?: string[] };
  fields: string[];
  outcome: "success" | "denied" | "failure";
  requestId: string;
  sourceIp: string;
  userAgent: string;
  breakGlass: boolean;
  /** Why access was allowed: the caller's relationships to the client(s) that the policy granted on. */
  basis: Relationship[];
};

/** An entry's content, or undefined for stored text that is not JSON (the chain check names that entry). */
export function parseEntry(text: string): AuditEntry | undefined {
  try {
    return JSON.parse(text) as AuditEntry;
  } catch {
    return undefined;
  }
}

export const GENESIS_HASH = "0".repeat(64);

/** RFC 8785 JSON canonicalization: the same entry hashes the same everywhere. */
export function canonicalEntry(entry: AuditEntry): string {
  const text = canonicalize(entry);
  if (text === undefined) throw new Error("audit entry is not serializable");
  return text;
}

/** hash_n = SHA-256(hash_{n-1} ‖ "\n" ‖ n ‖ "\n" ‖ canonical(entry_n)) */
export function chainHash(previousHash: string, sequence: number, canonical: string): string {
  // crypto.hash: one-shot, about twice as fast as createHash for short inputs (verification speed).
  return hash("sha256", `${previousHash}\n${sequence}\n${canonical}`, "hex");
}
