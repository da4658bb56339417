import { createHash } from "node:crypto";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { accessClient, requireConsent } from "../../shared/access";
import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import type { Principal } from "../../shared/auth";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { getDataKey, openBytes, sealBytes } from "../../shared/crypto";
import { IntegrityError, NotFoundError, VersionConflictError } from "../../shared/errors";
import { logger } from "../../shared/log";
import { detectPhiViaComprehend, phiSummary, redact } from "../../shared/phi";
import { loadSession, type SessionRecord, sessionKey, type TranscriptObject } from "../../shared/store";

/**
 * Session transcripts: PHI detected (Comprehend Medical), a redacted copy made, both encrypted here
 * under the client's key and stored in S3 with their SHA-256; every read checks the hash first.
 */
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

const binding = (orgId: string, session: SessionRecord, field: "full" | "redacted", version: number) => ({
  orgId,
  clientId: session.clientId,
  recordId: `transcript#${session.sessionId}`,
  field,
  version,
});

async function requireSession(orgId: string, clientId: string, sessionId: string) {
  const session = await loadSession(orgId, clientId, sessionId);
  if (!session) throw new NotFoundError();
  return session;
}

async function putObject(key: string, body: Buffer): Promise<TranscriptObject> {
  // A Buffer body: s3rver corrupts aws-chunked streams, and S3 itself takes either.
  await aws("s3").send(
    new PutObjectCommand({ Bucket: getConfig().BUCKET_TRANSCRIPTS, Key: key, Body: body }),
  );
  return { key, sha256: sha256(body), bytes: body.length };
}

export async function uploadTranscript(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  sessionId: string,
  text: string,
) {
  const access = await accessClient(principal, clientId, "transcript:upload");
  await requireConsent(principal.orgId, clientId, "transcript:upload");
  const session = await requireSession(principal.orgId, clientId, sessionId);
  const entities = await detectPhiViaComprehend(text);
  const version = (session.transcript?.version ?? 0) + 1;
  const key = await getDataKey({ orgId: principal.orgId, clientId });
  // Object keys hold ids only, never anything a person said.
  const prefix = `${principal.orgId}/${clientId}/${sessionId}/v${version}`;
  const seal = (field: "full" | "redacted", plain: string) =>
    Buffer.from(sealBytes(key, Buffer.from(plain), binding(principal.orgId, session, field, version)));
  const [full, redacted] = await Promise.all([
    putObject(`${prefix}/full`, seal("full", text)),
    putObject(`${prefix}/redacted`, seal("redacted", redact(text, entities))),
  ]);
  const transcript = {
    version,
    bytes: Buffer.byteLength(text),
    uploadedAt: new Date().toISOString(),
    uploadedBy: principal.userId,
    phiSummary: phiSummary(entities),
    full,
    redacted,
  };
  await appendWithItems(
    auditEntry(
      principal,
      request,
      "transcript.upload",
      { type: "transcript", id: sessionId, clientId },
      ["transcript:full", "transcript:redacted"],
      access,
    ),
    [
      {
        item: {
          Update: {
            TableName: getConfig().TABLE_RECORDS,
            Key: sessionKey(principal.orgId, clientId, sessionId),
            UpdateExpression: "SET transcript = :t",
            ConditionExpression: session.transcript
              ? "transcript.version = :previous"
              : "attribute_not_exists(transcript)",
            ExpressionAttributeValues: {
              ":t": transcript,
              ...(session.transcript && { ":previous": session.transcript.version }),
            },
          },
        },
        onConditionFailed: () => new VersionConflictError(),
      },
    ],
  );
  return { sessionId, version, bytes: transcript.bytes, phiSummary: transcript.phiSummary };
}

export async function readTranscript(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  sessionId: string,
) {
  const access = await accessClient(principal, clientId, "transcript:read");
  const session = await requireSession(principal.orgId, clientId, sessionId);
  const transcript = session.transcript;
  if (!transcript) throw new NotFoundError();
  const which = access.fields.has("transcript:full") ? "full" : "redacted";
  const stored = transcript[which];
  const object = await aws("s3").send(
    new GetObjectCommand({ Bucket: getConfig().BUCKET_TRANSCRIPTS, Key: stored.key }),
  );
  const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
  const entry = auditEntry(
    principal,
    request,
    "transcript.read",
    { type: "transcript", id: sessionId, clientId },
    [`transcript:${which}`],
    access,
  );
  if (sha256(bytes) !== stored.sha256) {
    // Never returned as data: the mismatch itself is recorded, then refused.
    await appendWithItems({ ...entry, outcome: "failure" });
    logger.error("transcript integrity check failed", {
      clientId,
      sessionId,
      version: transcript.version,
      securityEvent: "TRANSCRIPT_INTEGRITY_FAILURE",
    });
    throw new IntegrityError();
  }
  const [key] = await Promise.all([getDataKey({ orgId: principal.orgId, clientId }), appendWithItems(entry)]);
  const text = openBytes(
    key,
    bytes.toString(),
    binding(principal.orgId, session, which, transcript.version),
  ).toString();
  return {
    sessionId,
    version: transcript.version,
    redacted: which === "redacted",
    text,
    phiSummary: transcript.phiSummary,
  };
}
