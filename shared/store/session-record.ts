import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { recordsWithPrefix } from "./query";

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

export async function loadSession(orgId: string, clientId: string, sessionId: string) {
  const out = await aws("dynamo").send(
    new GetCommand({
      TableName: getConfig().TABLE_RECORDS,
      Key: sessionKey(orgId, clientId, sessionId),
      ConsistentRead: true,
    }),
  );
  return out.Item as SessionRecord | undefined;
}

export function listSessions(orgId: string, clientId: string): Promise<SessionRecord[]> {
  return recordsWithPrefix<SessionRecord>(orgId, `SESSION#${clientId}#`);
}
