import { createHash, randomUUID } from "node:crypto";
import { CONSENT_REQUIRED, type ConsentRecord, consentsOf, type Purpose } from "../../access/consent";
import { appendWithItems, auditEntry, jobMeta, queryDisclosures } from "../../audit";
import { CLIENT_PHI_FIELDS } from "../../auth/policy";
import { getConfig } from "../../config";
import {
  DataKeyUnavailableError,
  DecryptionError,
  dataKeyItemKey,
  getDataKey,
  openRecord,
} from "../../crypto";
import {
  assignmentPrefix,
  batchGet,
  type ClientRecord,
  readTranscriptObject,
  recordsWithPrefix,
  type SessionRecord,
  sessionKey,
} from "../../store";
import { type CheckContext, type CheckDefinition, failed, notApplicable, passed } from "../check";
import {
  allClients,
  clientsById,
  mapBounded,
  orgUsers,
  type PeriodEntry,
  periodEntries,
  rotatingPage,
  someIds,
} from "./org-data";

/**
 * Checks over the org's data: clients and their care team, per-client keys and sealed PHI, transcript
 * objects, and consent at the time of processing. A first report (nothing carried) makes one full pass;
 * later reports re-examine what the period's audit entries say changed, plus a bounded rotating sample
 * whose position each report carries to the next, so the cost follows the period's activity while every
 * item is still visited over a bounded number of reports.
 */

/** How much each report samples (data, not ifs). */
export const DATA_SAMPLING = {
  /** Older clients whose key and sealed fields are re-read each report, in rotation. */
  clientsPerReport: 50,
  /** Clients whose records are decrypted (new ones of the period first). */
  decryptClients: 5,
  /** Sessions per decrypted client whose sealed fields are opened. */
  sessionsPerClient: 5,
  /** Transcripts of the period whose objects are read (the most recent). */
  periodTranscripts: 10,
  /** Sessions read per report while looking for older transcripts, in rotation. */
  rotatingSessions: 50,
  /** Older transcripts read per report. */
  rotatingTranscripts: 5,
  /** Pages of a client's accounting read back to find the consent state before the period. */
  consentHistoryPages: 5,
} as const;

/** The service the data checks act as when they must touch PHI (the audit trail names it). */
export const COMPLIANCE_SERVICE = "job:complianceReport";

/** Sealed text as `shared/crypto/field-cipher.ts` writes it: `v1.` and base64url of IV, ciphertext, tag (≥ 28 bytes). */
export function isSealedText(value: unknown): boolean {
  return (
    typeof value === "string" &&
    /^v1\.[A-Za-z0-9_-]{38,}$/.test(value) &&
    Buffer.from(value.slice(3), "base64url").length >= 28
  );
}

/** The session's PHI (its start time), sealed in `sealed` by functions/sessions. */
export const SESSION_PHI_FIELDS = ["startsAt"] as const;

/**
 * The PHI fields a stored item holds in plaintext: a PHI field name among its top-level attributes, or a
 * value in its sealed map that is not sealed text.
 */
export function plaintextPhi(
  item: Readonly<Record<string, unknown>>,
  phiFields: readonly string[],
  sealedAttribute: string,
): string[] {
  const sealed = (item[sealedAttribute] ?? {}) as Record<string, unknown>;
  return [
    ...phiFields.filter((field) => field in item),
    ...Object.entries(sealed)
      .filter(([, value]) => !isSealedText(value))
      .map(([field]) => `${sealedAttribute}.${field}`),
  ];
}

/** A client without an active coach (or lead) on its care team; discharged clients need none. */
export function isCoachless(
  client: Pick<ClientRecord, "status" | "coaches">,
  activeCarers: ReadonlySet<string>,
) {
  return client.status !== "discharged" && !(client.coaches ?? []).some((id) => activeCarers.has(id));
}

/** A consent event of one client and purpose. */
export type ConsentEvent = { time: string; granted: boolean };

/**
 * Whether a purpose was granted at `time`: the last event at or before it decides; with none, `before`
 * (the state when the known events start) decides.
 */
export function grantedAt(events: readonly ConsentEvent[], time: string, before: boolean): boolean {
  let state = before;
  for (const event of [...events].sort((a, b) => a.time.localeCompare(b.time))) {
    if (event.time > time) break;
    state = event.granted;
  }
  return state;
}

/** The consent events a stored consent record itself shows (its latest grant, and its revocation). */
export function recordEvents(record: ConsentRecord | undefined): ConsentEvent[] {
  if (!record) return [];
  return [
    ...(record.version !== "none" ? [{ time: record.grantedAt, granted: true }] : []),
    ...(record.status === "revoked" && record.revokedAt ? [{ time: record.revokedAt, granted: false }] : []),
  ];
}

/** The audit actions that process a client's PHI under consent, and the purposes each needs. */
export const PROCESSING_PURPOSES: Readonly<Record<string, readonly Purpose[]>> = Object.fromEntries(
  Object.entries(CONSENT_REQUIRED).map(([action, purposes]) => [action.replace(":", "."), purposes ?? []]),
);

type ClientCursorCarry = { after?: string; failing: string[] };
const asClientCarry = (value: unknown): ClientCursorCarry | undefined =>
  typeof value === "object" && value !== null && Array.isArray((value as ClientCursorCarry).failing)
    ? (value as ClientCursorCarry)
    : undefined;

const clientIdsOf = (entries: readonly PeriodEntry[], actions: readonly string[]) =>
  entries
    .filter((entry) => entry.outcome === "success" && actions.includes(entry.action) && entry.clientId)
    .map((entry) => entry.clientId as string);

/** The org's active users who may be a client's coach (coaches and leads). */
async function activeCarers(context: CheckContext): Promise<Set<string>> {
  const users = await orgUsers(context);
  return new Set(
    users
      .filter((user) => user.status === "active" && (user.role === "coach" || user.role === "coach_lead"))
      .map((user) => user.userId),
  );
}

/** The clients a check examines: all of them on a first report, else those the period changed plus `extra`. */
async function clientsToExamine(
  context: CheckContext,
  carried: ClientCursorCarry | undefined,
  changedBy: readonly string[],
  extra: readonly string[] = [],
): Promise<{ mode: "full" | "incremental"; clients: ClientRecord[] }> {
  if (!carried) return { mode: "full", clients: await allClients(context) };
  const changed = clientIdsOf(await periodEntries(context), changedBy);
  return {
    mode: "incremental",
    clients: await clientsById(context.orgId, [...carried.failing, ...changed, ...extra]),
  };
}

/** The period's users whose changes may have left clients without an active coach: their assigned clients. */
async function clientsOfChangedUsers(context: CheckContext): Promise<string[]> {
  const changed = [
    ...new Set(
      (await periodEntries(context))
        .filter((entry) => entry.action === "user.update")
        .map((e) => e.resourceId),
    ),
  ];
  const assigned = await mapBounded(changed, 8, (userId) =>
    recordsWithPrefix<{ clientId: string }>(context.orgId, assignmentPrefix(userId)),
  );
  return assigned.flat().map((assignment) => assignment.clientId);
}

/** Decrypts the sampled clients' records (after an audit entry names them: no PHI touched unaudited). */
async function decryptSample(context: CheckContext, clients: readonly ClientRecord[]) {
  const undecryptable: string[] = [];
  let records = 0;
  if (clients.length === 0) return { records, undecryptable, plaintextSessions: [] };
  const sessions = await mapBounded(clients, 4, async (client) => {
    const prefix = `SESSION#${client.clientId}#`;
    const page = await rotatingPage<SessionRecord>(
      context.orgId,
      prefix,
      undefined,
      DATA_SAMPLING.sessionsPerClient,
    );
    return page.items;
  });
  const plaintextSessions = clients
    .filter((_, index) =>
      (sessions[index] ?? []).some(
        (session) =>
          plaintextPhi(session as unknown as Record<string, unknown>, SESSION_PHI_FIELDS, "sealed").length >
          0,
      ),
    )
    .map((client) => client.clientId);
  const actor = { service: COMPLIANCE_SERVICE, orgId: context.orgId };
  await appendWithItems(
    auditEntry(
      actor,
      jobMeta(randomUUID(), COMPLIANCE_SERVICE),
      "compliance.decrypt-sample",
      { type: "client", id: "*", clientIds: clients.map((client) => client.clientId) },
      [...new Set([...clients.flatMap((client) => Object.keys(client.phi ?? {})), ...SESSION_PHI_FIELDS])],
    ),
  );
  await mapBounded(clients, 4, async (client) => {
    const index = clients.indexOf(client);
    try {
      const key = await getDataKey({ orgId: context.orgId, clientId: client.clientId });
      const ref = { orgId: context.orgId, clientId: client.clientId };
      openRecord(
        key,
        { ...ref, recordId: `client#${client.clientId}`, version: client.version },
        client.phi ?? {},
      );
      records++;
      for (const session of sessions[index] ?? []) {
        openRecord(
          key,
          { ...ref, recordId: `session#${session.sessionId}`, version: session.version },
          session.sealed,
        );
        records++;
      }
    } catch (error) {
      if (error instanceof DecryptionError || error instanceof DataKeyUnavailableError) {
        undecryptable.push(client.clientId);
        return;
      }
      throw error;
    }
  });
  return { records, undecryptable, plaintextSessions };
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** What one transcript's stored objects show: present, matching their recorded digest, sealed. */
export type TranscriptFinding = "ok" | "missing" | "digest-mismatch" | "not-encrypted";
export function transcriptFinding(recorded: string, bytes: Buffer | undefined): TranscriptFinding {
  if (!bytes) return "missing";
  if (sha256(bytes) !== recorded) return "digest-mismatch";
  return isSealedText(bytes.toString("latin1")) ? "ok" : "not-encrypted";
}

type SessionCursorCarry = { after?: string };

export const dataChecks: readonly CheckDefinition[] = [
  {
    id: "clients.have-coach",
    title: "Every client in care has an active coach assigned",
    hipaa: "164.308(a)(4)(ii)(B)",
    layer: "application",
    severity: "medium",
    weight: 2,
    remediation:
      "Assign an active coach to each listed client (PUT /clients/{clientId}/coaches/{coachId}, an admin or lead), or discharge the client; a client nobody is assigned to is either unattended or reached through break-glass.",
    evaluate: async (context) => {
      const carried = asClientCarry(context.carried);
      const extra = carried ? await clientsOfChangedUsers(context) : [];
      const { mode, clients } = await clientsToExamine(
        context,
        carried,
        ["client.create", "client.update", "client.assign", "client.unassign", "client.reassign"],
        extra,
      );
      if (mode === "full" && clients.length === 0) return notApplicable("The org has no clients.");
      const carers = await activeCarers(context);
      const coachless = clients
        .filter((client) => isCoachless(client, carers))
        .map((client) => client.clientId);
      const evidence = {
        mode,
        clientsChecked: clients.length,
        coachlessCount: coachless.length,
        coachless: someIds(coachless),
      };
      const carry: ClientCursorCarry = { failing: coachless };
      return coachless.length === 0 ? passed(evidence, carry) : failed(evidence, undefined, carry);
    },
  },
  {
    id: "crypto.client-keys",
    title:
      "Every client has its wrapped data key, sealed records decrypt, and no PHI field is stored in plaintext",
    hipaa: "164.312(a)(2)(iv)",
    layer: "application",
    severity: "critical",
    weight: 3,
    remediation:
      "Treat a listed client as an incident: a missing key means its PHI is unreadable (crypto-shredded or deleted: restore the keys table from backup if it was not intended); a record that does not decrypt was altered; a plaintext PHI field was written outside shared/crypto: find the writer, re-seal the field and rotate what it exposed.",
    evaluate: async (context) => {
      const carried = asClientCarry(context.carried);
      const created = carried
        ? clientIdsOf(await periodEntries(context), ["client.create", "client.update"])
        : [];
      const rotation = carried
        ? await rotatingPage<ClientRecord>(
            context.orgId,
            "CLIENT#",
            carried.after,
            DATA_SAMPLING.clientsPerReport,
          )
        : { items: [], next: undefined };
      const { mode, clients: examined } = await clientsToExamine(context, carried, [
        "client.create",
        "client.update",
      ]);
      const clients = [...new Map([...examined, ...rotation.items].map((c) => [c.clientId, c])).values()];
      if (mode === "full" && clients.length === 0) return notApplicable("The org has no clients.");
      const keys = await batchGet<{ pk: string; wrappedKey?: unknown }>(
        getConfig().TABLE_KEYS,
        clients.map((client) => dataKeyItemKey({ orgId: context.orgId, clientId: client.clientId })),
      );
      const wrapped = new Set(keys.filter((key) => typeof key.wrappedKey === "string").map((key) => key.pk));
      const missingKeys = clients
        .filter(
          (client) => !wrapped.has(dataKeyItemKey({ orgId: context.orgId, clientId: client.clientId }).pk),
        )
        .map((client) => client.clientId);
      const plaintext = clients
        .filter(
          (client) =>
            plaintextPhi(client as unknown as Record<string, unknown>, CLIENT_PHI_FIELDS, "phi").length > 0,
        )
        .map((client) => client.clientId);
      // New clients first, then the rotation's, among those whose key is there.
      const order = [...new Set([...created, ...clients.map((client) => client.clientId)])];
      const sample = order
        .map((id) => clients.find((client) => client.clientId === id))
        .filter(
          (client): client is ClientRecord => client !== undefined && !missingKeys.includes(client.clientId),
        )
        .slice(0, DATA_SAMPLING.decryptClients);
      const decrypted = await decryptSample(context, sample);
      const plaintextClients = [...new Set([...plaintext, ...decrypted.plaintextSessions])];
      const failing = [...new Set([...missingKeys, ...plaintextClients, ...decrypted.undecryptable])];
      const evidence = {
        mode,
        clientsChecked: clients.length,
        keysPresent: clients.length - missingKeys.length,
        missingKeysCount: missingKeys.length,
        missingKeys: someIds(missingKeys),
        plaintextPhiCount: plaintextClients.length,
        plaintextPhi: someIds(plaintextClients),
        decryptSampleClients: sample.length,
        recordsDecrypted: decrypted.records,
        undecryptable: someIds(decrypted.undecryptable),
      };
      const carry: ClientCursorCarry = { failing, ...(rotation.next && { after: rotation.next }) };
      return failing.length === 0 ? passed(evidence, carry) : failed(evidence, undefined, carry);
    },
  },
  {
    id: "transcripts.integrity-sample",
    title: "A sample of transcript objects matches its recorded SHA-256 and is encrypted client-side",
    hipaa: "164.312(c)(1)",
    layer: "application",
    severity: "high",
    weight: 3,
    remediation:
      "Treat a listed session's transcript as altered or lost: restore the object's previous version from the versioned bucket (or the replica), compare CloudTrail's data events for who wrote it, and re-upload the transcript if no intact copy exists.",
    evaluate: async (context) => {
      const carried = (context.carried ?? {}) as SessionCursorCarry;
      const uploads = (await periodEntries(context)).filter(
        (entry) => entry.action === "transcript.upload" && entry.outcome === "success" && entry.clientId,
      );
      const recent = [...new Map(uploads.map((entry) => [entry.resourceId, entry])).values()]
        .slice(-DATA_SAMPLING.periodTranscripts)
        .map((entry) => sessionKey(context.orgId, entry.clientId as string, entry.resourceId));
      const withTranscript = "attribute_exists(transcript)";
      let rotation = await rotatingPage<SessionRecord>(
        context.orgId,
        "SESSION#",
        carried.after,
        DATA_SAMPLING.rotatingSessions,
        withTranscript,
      );
      if (rotation.items.length === 0 && carried.after) {
        // The rotation reached the end: it starts over.
        rotation = await rotatingPage(
          context.orgId,
          "SESSION#",
          undefined,
          DATA_SAMPLING.rotatingSessions,
          withTranscript,
        );
      }
      const fromPeriod = await batchGet<SessionRecord>(getConfig().TABLE_RECORDS, recent);
      const sessions = [
        ...new Map(
          [...fromPeriod, ...rotation.items.slice(0, DATA_SAMPLING.rotatingTranscripts)]
            .filter((session) => session.transcript)
            .map((session) => [session.sessionId, session]),
        ).values(),
      ];
      const carry: SessionCursorCarry = rotation.next ? { after: rotation.next } : {};
      if (sessions.length === 0) return notApplicable("The org stores no transcript yet.");
      const findings = await mapBounded(sessions, 4, async (session) => {
        const transcript = session.transcript as NonNullable<SessionRecord["transcript"]>;
        const copies = [transcript.full, transcript.redacted];
        const found = await Promise.all(
          copies.map(async (copy) => transcriptFinding(copy.sha256, await readTranscriptObject(copy.key))),
        );
        return found.find((finding) => finding !== "ok") ?? "ok";
      });
      const named = (finding: TranscriptFinding) =>
        sessions.filter((_, index) => findings[index] === finding).map((session) => session.sessionId);
      const bad = findings.filter((finding) => finding !== "ok").length;
      const evidence = {
        sampled: sessions.length,
        fromPeriod: fromPeriod.filter((session) => session.transcript).length,
        objectsChecked: sessions.length * 2,
        intact: sessions.length - bad,
        missing: someIds(named("missing")),
        digestMismatch: someIds(named("digest-mismatch")),
        notEncrypted: someIds(named("not-encrypted")),
      };
      return bad === 0 ? passed(evidence, carry) : failed(evidence, undefined, carry);
    },
  },
  {
    id: "consent.covered-processing",
    title: "Every session, note and transcript processed in the period had the client's consent at that time",
    hipaa: "164.308(a)(4)(i)",
    layer: "application",
    severity: "high",
    weight: 2,
    remediation:
      "Stop processing for the listed records' clients until consent is recorded (PUT /clients/{clientId}/consents/{purpose}); find how the processing passed the consent gate (a revocation racing it, or a write outside the API) and record the incident.",
    evaluate: async (context) => {
      const entries = await periodEntries(context);
      const processed = entries.filter(
        (entry) => entry.outcome === "success" && entry.clientId && PROCESSING_PURPOSES[entry.action],
      );
      const byClient = new Map<string, PeriodEntry[]>();
      for (const entry of processed)
        byClient.set(entry.clientId as string, [...(byClient.get(entry.clientId as string) ?? []), entry]);
      const uncovered: string[] = [];
      let lookedBack = 0;
      await mapBounded([...byClient], 4, async ([clientId, done]) => {
        const records = await consentsOf(context.orgId, clientId);
        const periodEvents = entries.filter(
          (entry) =>
            entry.clientId === clientId &&
            entry.outcome === "success" &&
            (entry.action === "consent.grant" || entry.action === "consent.revoke"),
        );
        const stateBefore = new Map<string, boolean>();
        const eventsOf = async (purpose: Purpose) => {
          const inPeriod = periodEvents
            .filter((entry) => entry.resourceId === purpose)
            .map((entry) => ({ time: entry.time, granted: entry.action === "consent.grant" }));
          if (inPeriod.length === 0)
            return { events: recordEvents(records.find((r) => r.purpose === purpose)), before: false };
          if (!stateBefore.has(purpose)) {
            lookedBack++;
            stateBefore.set(purpose, await grantedBefore(context, clientId, purpose));
          }
          return { events: inPeriod, before: stateBefore.get(purpose) as boolean };
        };
        for (const entry of done) {
          for (const purpose of PROCESSING_PURPOSES[entry.action] ?? []) {
            const { events, before } = await eventsOf(purpose);
            if (!grantedAt(events, entry.time, before)) {
              uncovered.push(entry.resourceId);
              break;
            }
          }
        }
      });
      const count = (action: string) => processed.filter((entry) => entry.action === action).length;
      const evidence = {
        processed: processed.length,
        sessions: count("session.create"),
        transcripts: count("transcript.upload"),
        notes: count("note.create"),
        clients: byClient.size,
        consentHistoryLookups: lookedBack,
        uncoveredCount: uncovered.length,
        uncovered: someIds(uncovered),
      };
      // Nothing processed: nothing to show consent for (not a pass on an empty set).
      if (processed.length === 0)
        return notApplicable("No session, note or transcript was processed in the period.");
      return uncovered.length === 0 ? passed(evidence) : failed(evidence);
    },
  },
];

/**
 * Whether the purpose was granted when the period began: the newest consent entry for it before the period
 * in the client's accounting (its disclosure pointers, newest first), read back a bounded number of pages.
 * None found there: never granted before (or too far back to tell), so not granted.
 */
async function grantedBefore(context: CheckContext, clientId: string, purpose: Purpose): Promise<boolean> {
  let after: Parameters<typeof queryDisclosures>[2]["after"];
  for (let page = 0; page < DATA_SAMPLING.consentHistoryPages; page++) {
    const found = await queryDisclosures(context.orgId, clientId, {
      to: context.period.from,
      limit: 100,
      ...(after && { after }),
    });
    for (const item of found.items) {
      const entry = item.entry;
      if (!item.hashValid || !entry || entry.resource.id !== purpose || entry.outcome !== "success") continue;
      if (entry.action === "consent.grant") return true;
      if (entry.action === "consent.revoke") return false;
    }
    if (!found.last) return false;
    after = found.last;
  }
  return false;
}
