import { randomUUID } from "node:crypto";
import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { appendWithItems, auditEntry } from "../../shared/audit";
import { CLIENT_PHI_FIELDS, decide, type Principal, pick, type Relationship } from "../../shared/auth";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { generateDataKey, getDataKey, openField, rememberDataKey, sealField } from "../../shared/crypto";
import {
  ForbiddenError,
  InvalidCursorError,
  NotFoundError,
  VersionConflictError,
} from "../../shared/http/errors";
import type { RequestMeta } from "../../shared/http/handler";
import { decodeCursor, encodeCursor } from "../../shared/store";
import type { CreateClientInput, UpdateClientInput } from "./schema";

/** Clients: the data subjects whose PHI the org keeps. PHI fields are sealed one by one under the client's key. */
type PhiField = (typeof CLIENT_PHI_FIELDS)[number];
type Meta = {
  clientId: string;
  status: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
};
type StoredClient = Meta & {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  phi: Record<string, string>;
};
export type ClientView = Partial<Meta & Record<PhiField, unknown>>;

const PHI = new Set<string>(CLIENT_PHI_FIELDS);
const clientKey = (orgId: string, clientId: string) => ({ pk: `ORG#${orgId}`, sk: `CLIENT#${clientId}` });
const ownerPartition = (orgId: string, userId: string) => `ORG#${orgId}#OWNER#${userId}`;
const binding = (orgId: string, clientId: string, field: string, version: number) => ({
  orgId,
  clientId,
  recordId: `client#${clientId}`,
  field,
  version,
});

function sealPhi(
  key: Buffer,
  orgId: string,
  clientId: string,
  version: number,
  values: Record<string, unknown>,
) {
  const sealed: Record<string, string> = {};
  for (const field of CLIENT_PHI_FIELDS) {
    if (values[field] !== undefined)
      sealed[field] = sealField(key, values[field], binding(orgId, clientId, field, version));
  }
  return sealed;
}

function openPhi(
  key: Buffer,
  orgId: string,
  stored: StoredClient,
  fields: Iterable<string>,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    const sealed = stored.phi[field];
    if (sealed)
      values[field] = openField(key, sealed, binding(orgId, stored.clientId, field, stored.version));
  }
  return values;
}

const metaOf = (stored: StoredClient): Meta => ({
  clientId: stored.clientId,
  status: stored.status,
  version: stored.version,
  createdAt: stored.createdAt,
  updatedAt: stored.updatedAt,
  createdBy: stored.createdBy,
});

const relationshipTo = (principal: Principal, stored: StoredClient): Relationship =>
  stored.createdBy === principal.userId ? "creator" : "none";

const visiblePhi = (fields: ReadonlySet<string>, stored: StoredClient) =>
  [...fields].filter((field) => PHI.has(field) && stored.phi[field] !== undefined);

async function loadClient(orgId: string, clientId: string): Promise<StoredClient | undefined> {
  const out = await aws("dynamo").send(
    new GetCommand({
      TableName: getConfig().TABLE_RECORDS,
      Key: clientKey(orgId, clientId),
      ConsistentRead: true,
    }),
  );
  return out.Item as StoredClient | undefined;
}

function clientItem(principal: Principal, meta: Meta, phi: Record<string, string>): StoredClient {
  return {
    ...clientKey(principal.orgId, meta.clientId),
    ...meta,
    gsi1pk: ownerPartition(principal.orgId, meta.createdBy),
    gsi1sk: `CLIENT#${meta.createdAt}#${meta.clientId}`,
    phi,
  };
}

export async function createClient(principal: Principal, request: RequestMeta, input: CreateClientInput) {
  const decision = decide(principal, "client:create", "none");
  if (!decision.allow) throw new ForbiddenError();
  const clientId = randomUUID();
  const now = new Date().toISOString();
  const meta: Meta = {
    clientId,
    status: input.status,
    version: 1,
    createdAt: now,
    updatedAt: now,
    createdBy: principal.userId,
  };
  const ref = { orgId: principal.orgId, clientId };
  const { key, item: keyItem } = await generateDataKey(ref);
  const stored = clientItem(principal, meta, sealPhi(key, principal.orgId, clientId, 1, input));
  const written = Object.keys(stored.phi);
  await appendWithItems(
    auditEntry(principal, request, "client.create", { type: "client", id: clientId, clientId }, written),
    [
      {
        item: {
          Put: {
            TableName: getConfig().TABLE_KEYS,
            Item: keyItem,
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      },
      {
        item: {
          Put: {
            TableName: getConfig().TABLE_RECORDS,
            Item: stored,
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      },
    ],
  );
  rememberDataKey(ref, key);
  const readable = decide(principal, "client:read", "creator");
  return pick({ ...meta, ...input }, readable.allow ? readable.fields : new Set(["clientId"]));
}

export async function getClient(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
): Promise<ClientView> {
  const stored = await loadClient(principal.orgId, clientId);
  // Absent, and present-but-not-yours, answer the same: nobody learns a record they may not see exists.
  if (!stored) throw new NotFoundError();
  const decision = decide(principal, "client:read", relationshipTo(principal, stored));
  if (!decision.allow) throw new NotFoundError();
  const fields = visiblePhi(decision.fields, stored);
  if (fields.length === 0) return pick(metaOf(stored), decision.fields);
  const ref = { orgId: principal.orgId, clientId };
  // The key fetch and the audit append run together; PHI is returned only once both have succeeded.
  const [key] = await Promise.all([
    getDataKey(ref),
    appendWithItems(
      auditEntry(principal, request, "client.read", { type: "client", id: clientId, clientId }, fields),
    ),
  ]);
  return pick({ ...metaOf(stored), ...openPhi(key, principal.orgId, stored, fields) }, decision.fields);
}

export async function updateClient(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  input: UpdateClientInput,
): Promise<ClientView> {
  const stored = await loadClient(principal.orgId, clientId);
  if (!stored) throw new NotFoundError();
  const relationship = relationshipTo(principal, stored);
  const decision = decide(principal, "client:update", relationship);
  if (!decision.allow) {
    throw decide(principal, "client:read", relationship).allow ? new ForbiddenError() : new NotFoundError();
  }
  const { version, ...changes } = input;
  if (version !== stored.version) throw new VersionConflictError();
  const changed = Object.keys(changes).filter((field) => decision.fields.has(field));
  const ref = { orgId: principal.orgId, clientId };
  const key = await getDataKey(ref);
  // Every field is re-sealed: ciphertexts are bound to the record version, so none can be rolled back alone.
  const current = openPhi(key, principal.orgId, stored, Object.keys(stored.phi));
  const next = { ...current, ...changes };
  const meta: Meta = {
    ...metaOf(stored),
    status: changes.status ?? stored.status,
    version: stored.version + 1,
    updatedAt: new Date().toISOString(),
  };
  const item = clientItem(principal, meta, sealPhi(key, principal.orgId, clientId, meta.version, next));
  item.gsi1pk = stored.gsi1pk;
  item.gsi1sk = stored.gsi1sk;
  await appendWithItems(
    auditEntry(principal, request, "client.update", { type: "client", id: clientId, clientId }, changed),
    [
      {
        item: {
          Put: {
            TableName: getConfig().TABLE_RECORDS,
            Item: item,
            ConditionExpression: "#v = :expected",
            ExpressionAttributeNames: { "#v": "version" },
            ExpressionAttributeValues: { ":expected": stored.version },
          },
        },
        onConditionFailed: () => new VersionConflictError(),
      },
    ],
  );
  const readable = decide(principal, "client:read", relationship);
  return pick({ ...meta, ...next }, readable.allow ? readable.fields : decision.fields);
}

const uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const ListCursor = z.strictObject({
  sk: z.string().regex(new RegExp(`^CLIENT#${uuid}$`)),
  gsk: z
    .string()
    .regex(new RegExp(`^CLIENT#[0-9T:.Z-]{20,30}#${uuid}$`))
    .optional(),
});

export async function listClients(
  principal: Principal,
  request: RequestMeta,
  query: { limit?: number | undefined; cursor?: string | undefined },
) {
  const orgWide = decide(principal, "client:list", "none");
  const own = decide(principal, "client:list", "creator");
  const decision = orgWide.allow ? orgWide : own;
  if (!decision.allow) throw new ForbiddenError();
  const config = getConfig();
  const position = decodeCursor(ListCursor, query.cursor);
  const orgPartition = `ORG#${principal.orgId}`;
  const byOwner = !orgWide.allow;
  if (position && byOwner !== Boolean(position.gsk)) throw new InvalidCursorError();
  const out = await aws("dynamo").send(
    new QueryCommand(
      byOwner
        ? {
            TableName: config.TABLE_RECORDS,
            IndexName: "byOwner",
            KeyConditionExpression: "gsi1pk = :p",
            ExpressionAttributeValues: { ":p": ownerPartition(principal.orgId, principal.userId) },
            Limit: query.limit ?? config.LIST_PAGE_MAX,
            ...(position?.gsk && {
              ExclusiveStartKey: {
                pk: orgPartition,
                sk: position.sk,
                gsi1pk: ownerPartition(principal.orgId, principal.userId),
                gsi1sk: position.gsk,
              },
            }),
          }
        : {
            TableName: config.TABLE_RECORDS,
            KeyConditionExpression: "pk = :p AND begins_with(sk, :client)",
            ExpressionAttributeValues: { ":p": orgPartition, ":client": "CLIENT#" },
            Limit: query.limit ?? config.LIST_PAGE_MAX,
            ...(position && { ExclusiveStartKey: { pk: orgPartition, sk: position.sk } }),
          },
    ),
  );
  const items = (out.Items ?? []) as StoredClient[];
  const last = out.LastEvaluatedKey;
  const nextCursor = encodeCursor(
    last ? { sk: String(last.sk), ...(byOwner ? { gsk: String(last.gsi1sk) } : {}) } : undefined,
  );
  const disclosed = items.filter((stored) => visiblePhi(decision.fields, stored).length > 0);
  const keys = new Map<string, Buffer>();
  if (disclosed.length > 0) {
    const phiFields = [...decision.fields].filter((field) => PHI.has(field));
    const [loaded] = await Promise.all([
      Promise.all(
        disclosed.map((stored) => getDataKey({ orgId: principal.orgId, clientId: stored.clientId })),
      ),
      appendWithItems(
        auditEntry(
          principal,
          request,
          "client.list",
          { type: "client", id: "*", clientIds: disclosed.map((stored) => stored.clientId) },
          phiFields,
        ),
      ),
    ]);
    for (const [index, stored] of disclosed.entries()) keys.set(stored.clientId, loaded[index] as Buffer);
  }
  const views = items.map((stored) => {
    const key = keys.get(stored.clientId);
    const phi = key ? openPhi(key, principal.orgId, stored, visiblePhi(decision.fields, stored)) : {};
    return pick({ ...metaOf(stored), ...phi }, decision.fields);
  });
  return { items: views, ...(nextCursor ? { nextCursor } : {}) };
}
