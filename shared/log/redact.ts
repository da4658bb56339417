/**
 * PHI-safe log values. Log calls should only ever pass ids, codes and counts; this is the net under
 * that rule: sensitive keys are dropped whole and strings are scrubbed of emails and bearer tokens.
 */
const SENSITIVE_KEY =
  /authorization|token|password|secret|cookie|credential|plaintext|ciphertext|datakey|^body$|^name$|fullname|email|phone|birth|^dob$|address|goal|condition|note|transcript|^text$|^value$|totp/i;

const JWT = /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g;
const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-])[A-Za-z0-9.-]*\.([A-Za-z]{2,})/g;

export const REDACTED = "[REDACTED]";

/** Masks an email to its first letters (`j***@e***.com`): enough to tell people apart, not to contact them. */
export function maskEmail(email: string): string {
  return email.replace(EMAIL, "$1***@$2***.$3");
}

export function scrubString(value: string): string {
  return maskEmail(value.replace(JWT, "[REDACTED_TOKEN]"));
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return REDACTED;
  if (typeof value === "string") return scrubString(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) return { name: value.name, code: errorCode(value) };
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = SENSITIVE_KEY.test(key) ? REDACTED : redact(item, depth + 1);
    }
    return out;
  }
  return value;
}

function errorCode(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
