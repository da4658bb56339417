import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type * as z from "zod";
import { getConfig } from "../config";
import { cursorKey } from "../crypto/cursor-key";
import { InvalidCursorError } from "./errors";

/**
 * Sealed pagination cursors. A cursor is the position of the last item a caller was shown, encrypted
 * and authenticated (AES-256-GCM) under the deployment's cursor key (`shared/crypto/cursor-key.ts`), so
 * it reveals nothing (no client id, no key) and cannot be edited. Its AAD binds the org, the caller and
 * the list (route, path parameters and filters): a cursor opens only for whoever was given it, on the
 * list it came from. It carries its issue time and expires after `CURSOR_MAX_AGE_SECONDS`. Anything
 * malformed, edited, foreign or expired is one answer: 400 `INVALID_CURSOR`.
 */
export type CursorScope = { orgId: string; userId: string; list: string };
export type Position = Record<string, string>;

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Clocks of two function instances may disagree a little; a cursor from further in the future is forged. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** The scope of a list for one caller: the route and everything that selects its items. */
export function cursorScope(
  caller: { orgId: string; userId: string },
  list: string,
  selection: Record<string, string | number | undefined> = {},
): CursorScope {
  const chosen = Object.entries(selection)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return { orgId: caller.orgId, userId: caller.userId, list: JSON.stringify([list, chosen]) };
}

const aad = (scope: CursorScope) =>
  Buffer.from(JSON.stringify(["list-cursor", FORMAT, scope.orgId, scope.userId, scope.list]));

/** Seals a position with a given key (`sealCursor` fetches the deployment's). */
export function sealWith(key: Buffer, scope: CursorScope, position: Position, now = Date.now()): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad(scope));
  const plain = Buffer.from(JSON.stringify({ issuedAt: now, position }));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT]), iv, body, cipher.getAuthTag()]).toString("base64url");
}

/** Opens a cursor with a given key, or throws `InvalidCursorError`. */
export function openWith<S extends z.ZodType>(
  key: Buffer,
  scope: CursorScope,
  schema: S,
  cursor: string,
  clock: { now?: number; maxAgeMs?: number } = {},
): z.infer<S> {
  const now = clock.now ?? Date.now();
  const maxAgeMs = clock.maxAgeMs ?? getConfig().CURSOR_MAX_AGE_SECONDS * 1000;
  const bytes = Buffer.from(cursor, "base64url");
  // Only the canonical encoding: no second spelling of the same bytes.
  if (
    bytes.toString("base64url") !== cursor ||
    bytes.length <= 1 + IV_BYTES + TAG_BYTES ||
    bytes[0] !== FORMAT
  )
    throw new InvalidCursorError();
  let sealed: unknown;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(aad(scope));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
    sealed = JSON.parse(plain.toString("utf8"));
  } catch {
    throw new InvalidCursorError();
  }
  const { issuedAt, position } = (sealed ?? {}) as { issuedAt?: unknown; position?: unknown };
  if (typeof issuedAt !== "number" || issuedAt > now + CLOCK_SKEW_MS || now - issuedAt > maxAgeMs)
    throw new InvalidCursorError();
  const result = schema.safeParse(position);
  if (!result.success) throw new InvalidCursorError();
  return result.data;
}

/** The cursor for the next page (none when there is no next page). */
export async function sealCursor(
  scope: CursorScope,
  position: Position | undefined,
): Promise<string | undefined> {
  return position ? sealWith(await cursorKey(), scope, position) : undefined;
}

/** The position a cursor holds (none for the first page); 400 `INVALID_CURSOR` for anything else. */
export async function openCursor<S extends z.ZodType>(
  scope: CursorScope,
  schema: S,
  cursor: string | undefined,
): Promise<z.infer<S> | undefined> {
  return cursor === undefined ? undefined : openWith(await cursorKey(), scope, schema, cursor);
}
