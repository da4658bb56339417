import { recordsWithPrefix } from "./query";
import { getRecord } from "./records";

/** A coaching session; its date (PHI) is sealed, its transcript lives in S3 and is described here. */
export type TranscriptObject = { key: string; sha256: string; bytes: number };
export type TranscriptRecord = {
  version: number;
  bytes: number;
  uploadedAt: string;
  uploadedBy: string;
  phiSummary: Record<string, number>;
  full: TranscriptObject;
  redacted: TranscriptObject;
};
export type SessionRecord = {
  pk: string;
  sk: string;
  sessionId: string;
  clientId: string;
  coachId: string;
  durationMinutes: number;
  type: string;
  createdAt: string;
  version: number;
  sealed: Record<string, string>;
  transcript?: TranscriptRecord;
};

export const sessionKey = (orgId: string, clientId: string, sessionId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `SESSION#${clientId}#${sessionId}`,
});

export function loadSession(orgId: string, clientId: string, sessionId: string) {
  return getRecord<SessionRecord>(sessionKey(orgId, clientId, sessionId));
}

export function listSessions(orgId: string, clientId: string): Promise<SessionRecord[]> {
  return recordsWithPrefix<SessionRecord>(orgId, `SESSION#${clientId}#`);
}
