import type { Action } from "../auth/policy";
import { recordsWithPrefix } from "../store/query";
import { ConsentRequiredError } from "./errors";

/** Purposes a client can consent to, and which actions need which consent (data, not ifs). */
export const PURPOSES = ["coaching", "research", "ai_processing"] as const;
export type Purpose = (typeof PURPOSES)[number];

export const CONSENT_REQUIRED: Partial<Record<Action, readonly Purpose[]>> = {
  "session:create": ["coaching"],
  "note:create": ["coaching"],
  // The transcript is sent to Comprehend Medical for PHI detection: machine processing of the client's words.
  "transcript:upload": ["coaching", "ai_processing"],
};

export type ConsentRecord = {
  clientId: string;
  purpose: Purpose;
  status: "granted" | "revoked";
  version: string;
  grantedAt: string;
  revokedAt?: string;
  recordedBy: string;
  /** Counts the writes of this consent; each write is conditional on the one it read (no lost update). */
  revision?: number;
};

export const consentKey = (orgId: string, clientId: string, purpose: Purpose) => ({
  pk: `ORG#${orgId}`,
  sk: `CONSENT#${clientId}#${purpose}`,
});

export function consentsOf(orgId: string, clientId: string): Promise<ConsentRecord[]> {
  return recordsWithPrefix<ConsentRecord>(orgId, `CONSENT#${clientId}#`);
}

/** Refuses (409 CONSENT_REQUIRED) an action whose purposes the client has not all granted. */
export async function requireConsent(orgId: string, clientId: string, action: Action): Promise<void> {
  const needed = CONSENT_REQUIRED[action] ?? [];
  if (needed.length === 0) return;
  const granted = new Set(
    (await consentsOf(orgId, clientId)).filter((c) => c.status === "granted").map((c) => c.purpose),
  );
  if (!needed.every((purpose) => granted.has(purpose))) throw new ConsentRequiredError();
}
