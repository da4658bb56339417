import type * as z from "zod";
import { InvalidCursorError } from "./errors";

/**
 * Opaque pagination cursors. A cursor carries only the sort-key position of the last item; the
 * partition (and so the org) is always filled in by the server, so a cursor edited or taken from
 * another org can move within the caller's own list and nowhere else. Anything malformed is a 400.
 */
export function encodeCursor(position: Record<string, string> | undefined): string | undefined {
  return position ? Buffer.from(JSON.stringify(position)).toString("base64url") : undefined;
}

export function decodeCursor<S extends z.ZodType>(
  schema: S,
  cursor: string | undefined,
): z.infer<S> | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new InvalidCursorError();
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new InvalidCursorError();
  return result.data;
}
