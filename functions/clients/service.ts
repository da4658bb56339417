import { randomUUID } from "node:crypto";
import * as z from "zod";
import { accessClient, relationshipsTo } from "../../shared/access";
import { appendWithItems, auditEntry, phiFieldsIn, type RequestMeta } from "../../shared/audit";
import { CLIENT_PHI_FIELDS, decide, type Principal, pick, type Relationship } from "../../shared/auth";
import { getConfig } from "../../shared/config";
import {
  DataKeyUnavailableError,
  generateDataKey,
  getDataKey,
  openRecord,
  rememberDataKey,
  sealRecord,
} from "../../shared/crypto";
import { ForbiddenError, VersionConflictError } from "../../shared/errors";
import { logger } from "../../shared/log";
import { teamOf } from "../../shared/people";
import {
  assignmentPrefix,
  type ClientRecord,
  clientKey,
  cursorScope,
  filledPage,
  InvalidCursorError,
  loadClient,
  openCursor,
  pageSize,
  sealCursor,
  versionedPut,
} from "../../shared/store";
import { CLIENT_PHI, type CreateClientInput, type UpdateClientInput } from "./schema";

/** Clients: the data subjects whose PHI the org keeps. PHI fields are sealed one by one under the client's key. */
type Meta = Pick<ClientRecord, "clientId" | "status" | "version" | "createdAt" | "updatedAt" | "coaches">;
export type ClientView = Partial<Meta & Record<(typeof CLIENT_PHI_FIELDS)[number], unknown>>;

const PHI = new Set<string>(CLIENT_PHI_FIELDS);
export const assignmentKey = (orgId: string, coachId: string, clientId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `${assignmentPrefix(coachId)}${clientId}`,
});
const recordRef = (orgId: string, clientId: string, version: number) => ({
  orgId,
  clientId,
  recordId: `client#${clientId}`,
  version,
});

function sealPhi(
  key: Buffer,
  orgId: string,
  clientId: string,
  version: number,
  values: Record<string, unknown>,
) {
  const phi = Object.fromEntries(CLIENT_PHI_FIELDS.map((field) => [field, values[field]]));
  return sealRecord(key, recordRef(orgId, clientId, version), phi);
}

const openPhi = (key: Buffer, orgId: string, stored: ClientRecord, fields: Iterable<string>) =>
  openRecord(key, recordRef(orgId, stored.clientId, stored.version), stored.phi, fields);

const metaOf = (stored: ClientRecord): Meta => ({
  clientId: stored.clientId,
  status: stored.status,
  version: stored.version,
  createdAt: stored.createdAt,
  updatedAt: stored.updatedAt,
  coaches: stored.coaches,
});

const visiblePhi = (fields: ReadonlySet<string>, stored: ClientRecord) =>
  [...fields].filter((field) => PHI.has(field) && stored.phi[field] !== undefined);

export async function createClient(principal: Principal, request: RequestMeta, input: CreateClientInput) {
  if (!decide(principal, "client:create", "none").allow) throw new ForbiddenError();
  const clientId = randomUUID();
  const now = new Date().toISOString();
  const ref = { orgId: principal.orgId, clientId };
  const { key, item: keyItem } = await generateDataKey(ref);
  // The coach who creates a client is its first assigned coach.
  const stored: ClientRecord = {
    ...clientKey(principal.orgId, clientId),
    clientId,
    status: input.status,
    version: 1,
    createdAt: now,
    updatedAt: now,
    createdBy: principal.userId,
    coaches: [principal.userId],
    phi: sealPhi(key, principal.orgId, clientId, 1, input),
  };
  const config = getConfig();
  await appendWithItems(
    auditEntry(
      principal,
      request,
      "client.create",
      { type: "client", id: clientId, clientId },
      Object.keys(stored.phi),
    ),
    [
      {
        item: {
          Put: {
            TableName: config.TABLE_KEYS,
            Item: keyItem,
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      },
      {
        item: {
          Put: {
            TableName: config.TABLE_RECORDS,
            Item: stored,
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      },
      {
        item: {
          Put: {
            TableName: config.TABLE_RECORDS,
            Item: {
              ...assignmentKey(principal.orgId, principal.userId, clientId),
              clientId,
              coachId: principal.userId,
              assignedAt: now,
            },
          },
        },
      },
    ],
  );
  rememberDataKey(ref, key);
  const readable = decide(principal, "client:read", "assigned");
  return pick({ ...metaOf(stored), ...input }, readable.allow ? readable.fields : new Set(["clientId"]));
}

export async function getClient(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
): Promise<ClientView> {
  const access = await accessClient(principal, clientId, "client:read");
  const stored = access.client;
  const fields = visiblePhi(access.fields, stored);
  if (fields.length === 0) return pick(metaOf(stored), access.fields);
  const entry = auditEntry(
    principal,
    request,
    "client.read",
    { type: "client", id: clientId, clientId },
    fields,
    access,
  );
  // The key fetch and the audit append run together; PHI is returned only once both have succeeded.
  const [key] = await Promise.all([getDataKey({ orgId: principal.orgId, clientId }), appendWithItems(entry)]);
  return pick({ ...metaOf(stored), ...openPhi(key, principal.orgId, stored, fields) }, access.fields);
}

export async function updateClient(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  input: UpdateClientInput,
): Promise<ClientView> {
  const access = await accessClient(principal, clientId, "client:update");
  const stored = access.client;
  const { version, ...changes } = input;
  if (version !== stored.version) throw new VersionConflictError();
  const changed = Object.keys(changes).filter((field) => access.fields.has(field));
  const key = await getDataKey({ orgId: principal.orgId, clientId });
  // Every field is re-sealed: ciphertexts are bound to the record version, so none can be rolled back alone.
  const next = { ...openPhi(key, principal.orgId, stored, Object.keys(stored.phi)), ...changes };
  const item: ClientRecord = {
    ...stored,
    status: changes.status ?? stored.status,
    version: stored.version + 1,
    updatedAt: new Date().toISOString(),
    phi: sealPhi(key, principal.orgId, clientId, stored.version + 1, next),
  };
  const readable = decide(principal, "client:read", access.relationship);
  const view = pick({ ...metaOf(item), ...next }, readable.allow ? readable.fields : access.fields);
  // The entry names what was written and every PHI field the answer carries back.
  await appendWithItems(
    auditEntry(
      principal,
      request,
      "client.update",
      { type: "client", id: clientId, clientId },
      [...new Set([...changed, ...phiFieldsIn(CLIENT_PHI, view)])],
      access,
    ),
    [versionedPut(item, stored.version)],
  );
  return view;
}

const uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const ListPosition = z.strictObject({
  sk: z.string().regex(new RegExp(`^(CLIENT|ASSIGN#${uuid})#${uuid}$`)),
});

type Listed = { stored: ClientRecord; fields: ReadonlySet<string>; relationship: Relationship };

/** How the caller may list a client: the first relationship the policy lets list it, or undefined. */
async function listedAs(
  principal: Principal,
  stored: ClientRecord,
  team: ReadonlySet<string> | undefined,
): Promise<Listed | undefined> {
  for (const relationship of await relationshipsTo(principal, stored, team)) {
    const decision = decide(principal, "client:list", relationship);
    if (decision.allow) return { stored, fields: decision.fields, relationship };
  }
  return undefined;
}

/**
 * A listed client's data key, or nothing when its key is gone (the client is being crypto-shredded): one
 * unreadable client costs its own PHI in the list, never the whole page.
 */
async function listedKey(ref: { orgId: string; clientId: string }): Promise<Buffer | undefined> {
  try {
    return await getDataKey(ref);
  } catch (error) {
    if (!(error instanceof DataKeyUnavailableError)) throw error;
    logger.warn("listed client's data key unavailable", { code: error.code, clientId: ref.clientId });
    return undefined;
  }
}

/**
 * A coach pages through their own assignments; leads and admins page through the org's clients and
 * see those the policy lets them list. Pages are full until the end of the list, however many clients
 * the caller may not see, and the cursor (sealed for this caller and this list) points at the last
 * client returned.
 */
export async function listClients(
  principal: Principal,
  request: RequestMeta,
  query: { limit?: number | undefined; cursor?: string | undefined },
) {
  const { orgId } = principal;
  const scope = cursorScope(principal, "listClients", { role: principal.role });
  const prefix = principal.role === "coach" ? assignmentPrefix(principal.userId) : "CLIENT#";
  const position = await openCursor(scope, ListPosition, query.cursor);
  if (position && !position.sk.startsWith(prefix)) throw new InvalidCursorError();
  const team = principal.role === "coach_lead" ? await teamOf(orgId, principal.userId) : undefined;
  const { items: visible, last } = await filledPage<Record<string, unknown>, Listed>(
    {
      TableName: getConfig().TABLE_RECORDS,
      KeyConditionExpression: "pk = :p AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":p": `ORG#${orgId}`, ":prefix": prefix },
      ConsistentRead: true,
      ...(position && { ExclusiveStartKey: { pk: `ORG#${orgId}`, sk: position.sk } }),
    },
    pageSize(query.limit),
    async (batch) => {
      const candidates =
        principal.role === "coach"
          ? await Promise.all(batch.map((item) => loadClient(orgId, String(item.clientId))))
          : (batch as ClientRecord[]);
      return Promise.all(candidates.map((stored) => stored && listedAs(principal, stored, team)));
    },
  );
  const disclosed = visible.filter(({ stored, fields }) => visiblePhi(fields, stored).length > 0);
  const keys = new Map<string, Buffer | undefined>();
  if (disclosed.length > 0) {
    const phiFields = [...new Set(disclosed.flatMap(({ stored, fields }) => visiblePhi(fields, stored)))];
    const [loaded] = await Promise.all([
      Promise.all(
        disclosed.map(({ stored }) => listedKey({ orgId: principal.orgId, clientId: stored.clientId })),
      ),
      appendWithItems({
        ...auditEntry(
          principal,
          request,
          "client.list",
          { type: "client", id: "*", clientIds: disclosed.map(({ stored }) => stored.clientId) },
          phiFields,
        ),
        // A list can rest on several relationships at once (a lead's own clients and their team's).
        basis: [...new Set(disclosed.map(({ relationship }) => relationship))].sort(),
      }),
    ]);
    for (const [index, { stored }] of disclosed.entries()) keys.set(stored.clientId, loaded[index]);
  }
  const items = visible.map(({ stored, fields }) => {
    const key = keys.get(stored.clientId);
    const phi = key ? openPhi(key, principal.orgId, stored, visiblePhi(fields, stored)) : {};
    const listed = pick({ ...metaOf(stored), ...phi }, fields);
    // Disclosed, but its key is gone: the caller learns why the PHI is missing.
    return keys.has(stored.clientId) && !key ? { ...listed, phiUnavailable: true as const } : listed;
  });
  const nextCursor = await sealCursor(scope, last && { sk: String(last.sk) });
  return { items, ...(nextCursor ? { nextCursor } : {}) };
}
