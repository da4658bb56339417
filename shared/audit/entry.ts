import { hash } from "node:crypto";
import canonicalize from "canonicalize";
import * as z from "zod";
import { RELATIONSHIPS } from "../auth/policy";
import { LIST_PAGE_BOUND } from "../config";

/**
 * Audit entry, schema version 2, or 3 with a document's digest (documented in docs/audit-entry.md). Field names only, never values:
 * an entry says that a field was read or written, not what it held. Version 1 entries (before `basis`)
 * stay in the chains unchanged and verify the same way: a hash covers whatever the entry's version holds.
 *
 * One strict schema says what an entry is. Whatever reads stored text (the verifier, the live witness,
 * the compliance queries, the audit routes' answers) parses it with `parseEntry`, so text that is not an
 * entry (`{}`, `1`, `[]`, a number where the text belongs) is a named problem everywhere, never a crash.
 */
/**
 * Every string is bounded, so nothing an entry names can make a key too long for DynamoDB (a disclosure
 * pointer's partition key is built from a client id): text naming an id longer than any id the code
 * gives (uuids, Cognito subs, org ids, service names such as `job:verifyAuditDaily`, request ids) is no
 * entry. A user agent is cut to 256 characters when a request comes in (`shared/http/handler.ts`).
 */
export const MAX_ENTRY_ID = 128;
export const MAX_ENTRY_USER_AGENT = 1024;
const Id = z.string().max(MAX_ENTRY_ID);
const ClientId = z.string().min(1).max(MAX_ENTRY_ID);
const Actor = z.strictObject({
  type: z.enum(["user", "service"]),
  id: Id,
  role: Id,
  orgId: Id.min(1),
});
/** `clientIds` names every data subject whose PHI a list disclosed (a list page holds at most `LIST_PAGE_BOUND`). */
const Resource = z.strictObject({
  type: Id,
  id: Id,
  clientId: ClientId.optional(),
  clientIds: z.array(ClientId).max(LIST_PAGE_BOUND).optional(),
});
const common = {
  time: z.iso.datetime(),
  actor: Actor,
  action: Id,
  resource: Resource,
  fields: z.array(Id),
  outcome: z.enum(["success", "denied", "failure"]),
  requestId: Id,
  sourceIp: Id,
  userAgent: z.string().max(MAX_ENTRY_USER_AGENT),
  breakGlass: z.boolean(),
};
export const AuditEntryV1Schema = z.strictObject({ v: z.literal(1), ...common });
const v2 = {
  ...common,
  /** Why access was allowed: the caller's relationships to the client(s) that the policy granted on. */
  basis: z.array(z.enum(RELATIONSHIPS)),
};
export const AuditEntryV2Schema = z.strictObject({ v: z.literal(2), ...v2 });
/**
 * Version 3: version 2 plus the digest of a document the entry vouches for (a compliance report's signed
 * JSON): the chain then pins the document, so swapping it shows. Written only where there is a document.
 */
export const AuditEntryV3Schema = z.strictObject({
  v: z.literal(3),
  ...v2,
  digest: z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
});
/** Any entry a chain may hold: the current versions, or an older one written before them. */
export const RecordedEntrySchema = z.discriminatedUnion("v", [
  AuditEntryV3Schema,
  AuditEntryV2Schema,
  AuditEntryV1Schema,
]);

/** An entry as this code writes it (version 2, or 3 where it vouches for a document). */
export type AuditEntry = z.infer<typeof AuditEntryV2Schema> | z.infer<typeof AuditEntryV3Schema>;
/** An entry as a chain may hold it (version 1, 2 or 3). */
export type RecordedEntry = z.infer<typeof RecordedEntrySchema>;

/** The entry a stored text holds, or undefined for anything else: not JSON, or JSON that is no entry. */
export function parseEntry(text: unknown): RecordedEntry | undefined {
  if (typeof text !== "string") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = RecordedEntrySchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export const GENESIS_HASH = "0".repeat(64);

/**
 * The highest sequence number a chain may hold: positions (`entryPosition`, list cursors) give it 12
 * digits. Nothing reads past it as a chain's entry: an item numbered beyond it, below 1 or between two
 * integers is no chain's entry, whoever put it there (the witness and the verifier name it).
 */
export const MAX_SEQ = 999_999_999_999;
export const isChainSeq = (seq: number) => Number.isInteger(seq) && seq >= 1 && seq <= MAX_SEQ;

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
