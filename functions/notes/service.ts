import { randomUUID } from "node:crypto";
import { accessClient, requireConsent } from "../../shared/access";
import { type AccessBasis, appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import { type Principal, pick } from "../../shared/auth";
import { getConfig } from "../../shared/config";
import { getDataKey, openRecord, sealRecord } from "../../shared/crypto";
import { NotFoundError, ValidationError, VersionConflictError } from "../../shared/errors";
import { getRecord, loadSession, recordsWithPrefix, versionedPut } from "../../shared/store";

/**
 * Coach notes on a client or session: the text sealed under the client's key, every version kept
 * (NOTEV items are written once and never changed), the current one served.
 */
type NoteRecord = {
  pk: string;
  sk: string;
  noteId: string;
  clientId: string;
  sessionId?: string;
  authorId: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  sealed: Record<string, string>;
};

const noteKey = (orgId: string, clientId: string, noteId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `NOTE#${clientId}#${noteId}`,
});
const historyKey = (orgId: string, clientId: string, noteId: string, version: number) => ({
  pk: `ORG#${orgId}`,
  sk: `NOTEV#${clientId}#${noteId}#${String(version).padStart(6, "0")}`,
});
const noteRef = (orgId: string, note: Pick<NoteRecord, "clientId" | "noteId" | "version">) => ({
  orgId,
  clientId: note.clientId,
  recordId: `note#${note.noteId}`,
  version: note.version,
});

function view(key: Buffer, orgId: string, note: NoteRecord, fields: ReadonlySet<string>) {
  const { pk: _pk, sk: _sk, sealed, ...meta } = note;
  return pick({ ...meta, ...openRecord(key, noteRef(orgId, note), sealed) }, fields);
}

async function writeVersion(
  principal: Principal,
  request: RequestMeta,
  note: NoteRecord,
  action: string,
  access: AccessBasis,
  previous?: number,
) {
  const table = getConfig().TABLE_RECORDS;
  await appendWithItems(
    auditEntry(
      principal,
      request,
      action,
      { type: "note", id: note.noteId, clientId: note.clientId },
      ["text"],
      access,
    ),
    [
      previous === undefined
        ? { item: { Put: { TableName: table, Item: note, ConditionExpression: "attribute_not_exists(pk)" } } }
        : versionedPut(note, previous),
      {
        item: {
          Put: {
            TableName: table,
            Item: { ...note, ...historyKey(principal.orgId, note.clientId, note.noteId, note.version) },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      },
    ],
  );
}

export async function createNote(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  input: { text: string; sessionId?: string | undefined },
) {
  const access = await accessClient(principal, clientId, "note:create");
  await requireConsent(principal.orgId, clientId, "note:create");
  if (input.sessionId && !(await loadSession(principal.orgId, clientId, input.sessionId))) {
    throw new ValidationError([{ field: "body.sessionId", rule: "existing_session" }]);
  }
  const key = await getDataKey({ orgId: principal.orgId, clientId });
  const noteId = randomUUID();
  const now = new Date().toISOString();
  const note: NoteRecord = {
    ...noteKey(principal.orgId, clientId, noteId),
    noteId,
    clientId,
    ...(input.sessionId && { sessionId: input.sessionId }),
    authorId: principal.userId,
    version: 1,
    createdAt: now,
    updatedAt: now,
    sealed: {},
  };
  note.sealed = sealRecord(key, noteRef(principal.orgId, note), { text: input.text });
  await writeVersion(principal, request, note, "note.create", access);
  return view(key, principal.orgId, note, access.fields);
}

export async function updateNote(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  noteId: string,
  input: { text: string; version: number },
) {
  const access = await accessClient(principal, clientId, "note:update");
  const current = await getRecord<NoteRecord>(noteKey(principal.orgId, clientId, noteId));
  if (!current) throw new NotFoundError();
  if (current.version !== input.version) throw new VersionConflictError();
  const key = await getDataKey({ orgId: principal.orgId, clientId });
  const next: NoteRecord = {
    ...current,
    version: current.version + 1,
    updatedAt: new Date().toISOString(),
    sealed: {},
  };
  next.sealed = sealRecord(key, noteRef(principal.orgId, next), { text: input.text });
  await writeVersion(principal, request, next, "note.update", access, current.version);
  return view(key, principal.orgId, next, access.fields);
}

function notesOf(orgId: string, clientId: string): Promise<NoteRecord[]> {
  return recordsWithPrefix<NoteRecord>(orgId, `NOTE#${clientId}#`);
}

export async function listNotes(principal: Principal, request: RequestMeta, clientId: string) {
  const access = await accessClient(principal, clientId, "note:read");
  const notes = await notesOf(principal.orgId, clientId);
  if (notes.length === 0) return { items: [] };
  const entry = auditEntry(
    principal,
    request,
    "note.list",
    { type: "note", id: "*", clientId },
    ["text"],
    access,
  );
  const [key] = await Promise.all([getDataKey({ orgId: principal.orgId, clientId }), appendWithItems(entry)]);
  return { items: notes.map((note) => view(key, principal.orgId, note, access.fields)) };
}
