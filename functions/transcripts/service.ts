import { createHash, randomUUID } from "node:crypto";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { accessClient, requireConsent } from "../../shared/access";
import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import type { Principal } from "../../shared/auth";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { getDataKey, openBytes, sealBytes } from "../../shared/crypto";
import { IntegrityError, NotFoundError, VersionConflictError } from "../../shared/errors";
import { logger } from "../../shared/log";
import { detectPhiViaComprehend, phiSummary, redact } from "../../shared/phi";
import {
  loadSession,
  readTranscriptObject,
  type SessionRecord,
  sessionKey,
  type TranscriptObject,
  type TranscriptRecord,
} from "../../shared/store";

/**
 * Session transcripts: PHI detected (Comprehend Medical), a redacted copy made, both encrypted here
 * under the client's key and stored in S3 with their SHA-256; every read checks the hash first.
 *
 * Every upload attempt writes objects of its own (`<org>/<client>/<session>/v<version>-<attempt id>/…`),
 * and only the attempt whose record update commits is referenced. So a losing or failed attempt can
 * never overwrite what a record points to, and whatever it wrote is deleted once it is known that no
 * record references it; the superseded version's objects are deleted once the replacement commits.
 */
type Copy = "full" | "redacted";
const COPIES: readonly Copy[] = ["full", "redacted"];

/** Time kept back from PHI detection for sealing, storing and committing (the route's timeout bounds both). */
const STORE_RESERVE_MS = 4000;
/** A failed delete is retried (with a short pause) this many times in all before the object is reported. */
const DELETE_ATTEMPTS = 4;

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const binding = (orgId: string, session: SessionRecord, field: Copy, version: number) => ({
  orgId,
  clientId: session.clientId,
  recordId: `transcript#${session.sessionId}`,
  field,
  version,
});

/** Where a session's transcript objects live: ids only, never anything a person said. */
export const transcriptPrefix = (orgId: string, clientId: string, sessionId: string) =>
  `${orgId}/${clientId}/${sessionId}/`;

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

/**
 * Deletes objects that no record references (S3 answers a delete of a missing key with success, so a
 * retry after a lost answer is harmless). The bucket is versioned: this leaves a delete marker, and the
 * lifecycle rule in `infra/cloud/data.ts` expires the noncurrent version. An object that still cannot be
 * deleted is logged by key (ids only) for clean-up; the caller's outcome does not change.
 */
async function deleteUnreferenced(keys: readonly string[]): Promise<void> {
  await Promise.all(
    keys.map(async (key) => {
      for (let attempt = 1; ; attempt++) {
        try {
          await aws("s3").send(new DeleteObjectCommand({ Bucket: getConfig().BUCKET_TRANSCRIPTS, Key: key }));
          return;
        } catch (error) {
          if (attempt >= DELETE_ATTEMPTS) {
            logger.error("unreferenced transcript object left behind", { key, error });
            return;
          }
          await sleep(50 * 2 ** attempt);
        }
      }
    }),
  );
}

/**
 * After a failed commit: whether the record references this attempt's objects. A timed-out transaction
 * may have committed, so the answer comes from a strongly consistent read, not from the error;
 * `undefined` when even that read fails (then nothing is deleted: never an object a record points to).
 */
async function committedAttempt(orgId: string, clientId: string, sessionId: string, fullKey: string) {
  try {
    const current = await loadSession(orgId, clientId, sessionId);
    return current?.transcript?.full.key === fullKey;
  } catch {
    return undefined;
  }
}

export async function uploadTranscript(
  principal: Principal,
  request: RequestMeta,
  target: { clientId: string; sessionId: string; deadline: number },
  text: string,
) {
  const { orgId } = principal;
  const { clientId, sessionId } = target;
  const access = await accessClient(principal, clientId, "transcript:upload");
  await requireConsent(orgId, clientId, "transcript:upload");
  const session = await requireSession(orgId, clientId, sessionId);
  const entities = await detectPhiViaComprehend(text, { deadline: target.deadline - STORE_RESERVE_MS });
  const version = (session.transcript?.version ?? 0) + 1;
  const key = await getDataKey({ orgId, clientId });
  const attempt = `${transcriptPrefix(orgId, clientId, sessionId)}v${version}-${randomUUID()}`;
  const plain: Record<Copy, string> = { full: text, redacted: redact(text, entities) };
  const keys = COPIES.map((copy) => `${attempt}/${copy}`);
  // Both puts settle before anything else happens, so a clean-up never races a put still in flight.
  const puts = await Promise.allSettled(
    COPIES.map((copy, index) =>
      putObject(
        keys[index] as string,
        Buffer.from(sealBytes(key, Buffer.from(plain[copy]), binding(orgId, session, copy, version))),
      ),
    ),
  );
  const failedPut = puts.find((put) => put.status === "rejected");
  if (failedPut) {
    // Nothing references these keys yet; a put whose answer was lost may still have written its object.
    await deleteUnreferenced(keys);
    throw failedPut.reason;
  }
  const [full, redacted] = puts.map((put) => (put as PromiseFulfilledResult<TranscriptObject>).value) as [
    TranscriptObject,
    TranscriptObject,
  ];
  const transcript: TranscriptRecord = {
    version,
    bytes: Buffer.byteLength(text),
    uploadedAt: new Date().toISOString(),
    uploadedBy: principal.userId,
    phiSummary: phiSummary(entities),
    full,
    redacted,
  };
  try {
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
              Key: sessionKey(orgId, clientId, sessionId),
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
  } catch (error) {
    const committed = await committedAttempt(orgId, clientId, sessionId, full.key);
    if (committed === undefined) {
      logger.error("transcript upload outcome unknown; its objects are kept", { keys, error });
      throw error;
    }
    if (!committed) {
      await deleteUnreferenced(keys);
      throw error;
    }
    // The answer was lost but the transaction (record and audit entry) committed: this upload won.
  }
  const superseded = session.transcript;
  if (superseded) await deleteUnreferenced(COPIES.map((copy) => superseded[copy].key));
  return { sessionId, version, bytes: transcript.bytes, phiSummary: transcript.phiSummary };
}

export async function readTranscript(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  sessionId: string,
) {
  const access = await accessClient(principal, clientId, "transcript:read");
  const which: Copy = access.fields.has("transcript:full") ? "full" : "redacted";
  let session = await requireSession(principal.orgId, clientId, sessionId);
  let bytes = session.transcript && (await readTranscriptObject(session.transcript[which].key));
  if (session.transcript && !bytes) {
    // Replaced between our read of the record and of the object: read the record again, once.
    session = await requireSession(principal.orgId, clientId, sessionId);
    bytes = session.transcript && (await readTranscriptObject(session.transcript[which].key));
  }
  const transcript = session.transcript;
  if (!transcript) throw new NotFoundError();
  const stored = transcript[which];
  const entry = auditEntry(
    principal,
    request,
    "transcript.read",
    { type: "transcript", id: sessionId, clientId },
    [`transcript:${which}`],
    access,
  );
  if (!bytes || sha256(bytes) !== stored.sha256) {
    // Never returned as data: the mismatch (or a record pointing at nothing) is recorded, then refused.
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
