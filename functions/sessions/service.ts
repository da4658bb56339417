import { randomUUID } from "node:crypto";
import type * as z from "zod";
import { accessClient, requireConsent } from "../../shared/access";
import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import { type Principal, pick } from "../../shared/auth";
import { getConfig } from "../../shared/config";
import { getDataKey, openRecord, sealRecord } from "../../shared/crypto";
import { NotFoundError } from "../../shared/errors";
import { listSessions, loadSession, type SessionRecord, sessionKey } from "../../shared/store";
import type { CreateSessionSchema } from "./schema";

/** Coaching sessions of a client: time (sealed), duration, type, coach, and what is known of the transcript. */
const sessionRef = (orgId: string, session: Pick<SessionRecord, "clientId" | "sessionId" | "version">) => ({
  orgId,
  clientId: session.clientId,
  recordId: `session#${session.sessionId}`,
  version: session.version,
});

function view(key: Buffer, orgId: string, session: SessionRecord, fields: ReadonlySet<string>) {
  const { startsAt } = openRecord(key, sessionRef(orgId, session), session.sealed);
  const transcript = session.transcript && {
    version: session.transcript.version,
    bytes: session.transcript.bytes,
    uploadedAt: session.transcript.uploadedAt,
    phiSummary: session.transcript.phiSummary,
  };
  return pick(
    {
      sessionId: session.sessionId,
      clientId: session.clientId,
      coachId: session.coachId,
      startsAt,
      durationMinutes: session.durationMinutes,
      type: session.type,
      ...(transcript && { transcript }),
    },
    fields,
  );
}

export async function createSession(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  input: z.infer<typeof CreateSessionSchema>,
) {
  const access = await accessClient(principal, clientId, "session:create");
  await requireConsent(principal.orgId, clientId, "session:create");
  const key = await getDataKey({ orgId: principal.orgId, clientId });
  const sessionId = randomUUID();
  const session: SessionRecord = {
    ...sessionKey(principal.orgId, clientId, sessionId),
    sessionId,
    clientId,
    coachId: principal.userId,
    durationMinutes: input.durationMinutes,
    type: input.type,
    createdAt: new Date().toISOString(),
    version: 1,
    sealed: {},
  };
  session.sealed = sealRecord(key, sessionRef(principal.orgId, session), { startsAt: input.startsAt });
  await appendWithItems(
    auditEntry(
      principal,
      request,
      "session.create",
      { type: "session", id: sessionId, clientId },
      ["startsAt"],
      access,
    ),
    [
      {
        item: {
          Put: {
            TableName: getConfig().TABLE_RECORDS,
            Item: session,
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      },
    ],
  );
  return view(key, principal.orgId, session, access.fields);
}

export async function getSessions(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  sessionId?: string,
) {
  const access = await accessClient(principal, clientId, "session:read");
  const sessions = sessionId
    ? [await loadSession(principal.orgId, clientId, sessionId)].filter((s): s is SessionRecord => Boolean(s))
    : await listSessions(principal.orgId, clientId);
  if (sessionId && sessions.length === 0) throw new NotFoundError();
  const entry = auditEntry(
    principal,
    request,
    sessionId ? "session.read" : "session.list",
    { type: "session", id: sessionId ?? "*", clientId },
    ["startsAt"],
    access,
  );
  const [key] = await Promise.all([
    getDataKey({ orgId: principal.orgId, clientId }),
    sessions.length > 0 ? appendWithItems(entry) : undefined,
  ]);
  const views = sessions.map((session) => view(key, principal.orgId, session, access.fields));
  return sessionId
    ? views[0]
    : { items: views.sort((a, b) => String(a.startsAt).localeCompare(String(b.startsAt))) };
}
