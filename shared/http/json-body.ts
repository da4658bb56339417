import type { APIGatewayProxyEvent } from "aws-lambda";
import { ValidationError } from "../errors";
import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from "./errors";

/** Keys that could reach an object's prototype if a body were ever merged into another object. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

const MAX_DEPTH = 32;

class ForbiddenKey extends Error {}

/** Deepest array/object nesting in a JSON text (strings skipped); bounded work before JSON.parse recurses. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{" || char === "[") deepest = Math.max(deepest, ++depth);
    else if (char === "}" || char === "]") depth--;
  }
  return deepest;
}

/**
 * Parses a JSON body with a byte limit and rejects prototype keys at any depth. Written here rather
 * than using @middy/http-json-body-parser, which has no size limit and answers malformed JSON with 415.
 */
export function parseJsonBody(
  event: Pick<APIGatewayProxyEvent, "body" | "isBase64Encoded" | "headers">,
  maxBytes: number,
  expectsBody: boolean,
): unknown {
  const raw = event.body ?? "";
  const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  if (Buffer.byteLength(text, "utf8") > maxBytes) throw new PayloadTooLargeError();
  if (!expectsBody) {
    if (text.length > 0) throw new ValidationError([{ field: "(body)", rule: "not_allowed" }]);
    return undefined;
  }
  if (!JSON_MEDIA_TYPE.test(event.headers?.["content-type"] ?? "")) throw new UnsupportedMediaTypeError();
  if (nestingDepth(text) > MAX_DEPTH)
    throw new ValidationError([{ field: "(body)", rule: `max_depth:${MAX_DEPTH}` }]);
  try {
    return JSON.parse(text, (key, value) => {
      if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKey();
      return value;
    });
  } catch (error) {
    if (error instanceof ForbiddenKey)
      throw new ValidationError([{ field: "(body)", rule: "forbidden_key" }]);
    throw new MalformedJsonError();
  }
}
