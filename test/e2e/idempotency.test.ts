import { randomUUID } from "node:crypto";
import { IdempotencyConfig } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { routes } from "../../functions/routes";
import { parseEntry, type RecordedEntry } from "../../shared/audit";
import { aws } from "../../shared/aws";
import {
  IDEMPOTENCY_EXPIRY_SECONDS,
  idempotencyPayload,
  idempotencyScope,
} from "../../shared/http/idempotency";
import { testStack } from "../support/stack";

/** Idempotent retries over HTTPS (issue 11, item 3): replays, reuse, in-flight, scoping, what is stored. */
const stack = testStack();
const { api, endpoints } = stack;
const { tables } = endpoints;

let coach1: string;
let coach2: string;
let otherOrgCoach: string;

beforeAll(async () => {
  [coach1, coach2, otherOrgCoach] = await Promise.all([
    stack.token("coach1@demo.example"),
    stack.token("coach2@demo.example"),
    stack.token("coach@other.example"),
  ]);
});

const scanAll = async (table: string) => {
  const items: Record<string, any>[] = [];
  let start: Record<string, any> | undefined;
  do {
    const page = await aws("dynamo").send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
};
/** Data keys: one per client ever created (plus the deployment's own keys, made once). */
const keyCount = async () => (await scanAll(tables.keys)).length;
/** The committed audit entries that name one client (other suites plant items that are no entry). */
const entriesAbout = async (clientId: string) =>
  (await scanAll(tables.audit))
    .map((item) => parseEntry(item.entry))
    .filter((entry): entry is RecordedEntry => entry?.resource.clientId === clientId);

const keyed = (key: string, token: string, body: unknown) => ({
  token,
  body,
  headers: { "Idempotency-Key": key },
});
const uniqueClient = () => ({
  name: `Ida Quorrelby ${randomUUID().slice(0, 8)}`,
  dateOfBirth: "1964-03-09",
  conditions: ["type 2 diabetes"],
});

describe("a replay", () => {
  it("answers the first status and body with Idempotent-Replayed: true, writes nothing, and audits the PHI it discloses", async () => {
    const key = randomUUID();
    const body = uniqueClient();
    const first = await api("POST", "/clients", keyed(key, coach1, body));
    expect(first.status).toBe(201);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    const clientId = first.json.clientId as string;
    const [keysBefore, recordsBefore, entriesBefore] = [
      await keyCount(),
      (await scanAll(tables.records)).length,
      await entriesAbout(clientId),
    ];
    expect(entriesBefore.map((entry) => entry.action)).toEqual(["client.create"]);

    const again = await api("POST", "/clients", keyed(key, coach1, body));
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.headers["idempotent-replayed"]).toBe("true");

    // No client, key or record written; one audit entry: the disclosure, a read naming what it carried.
    expect(await keyCount()).toBe(keysBefore);
    const entriesAfter = await entriesAbout(clientId);
    const added = entriesAfter.slice(entriesBefore.length);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      action: "client.replay",
      resource: { type: "client", id: clientId, clientId },
      fields: ["conditions", "dateOfBirth", "name"],
      outcome: "success",
    });
    // Its only records-table write is the entry's disclosure pointer (the client's accounting).
    expect((await scanAll(tables.records)).length).toBe(recordsBefore + 1);
  });

  it("a PHI answer is replayed only to a caller who may still read the client (a replay passes the read gate)", async () => {
    const admin = await stack.token("admin@demo.example");
    const key = randomUUID();
    const body = uniqueClient();
    const first = await api("POST", "/clients", keyed(key, coach1, body));
    const clientId = first.json.clientId as string;
    const coach1Id = stack.users.find((user) => user.email === "coach1@demo.example")?.userId;
    const removed = await api("DELETE", `/clients/${clientId}/coaches/${coach1Id}`, { token: admin });
    expect(removed.status).toBe(200);
    const replay = await api("POST", "/clients", keyed(key, coach1, body));
    expect(replay.status).toBe(404);
    expect(replay.text).not.toContain(body.name);
    expect((await entriesAbout(clientId)).map((entry) => entry.action)).not.toContain("client.replay");
  });

  it("a route without PHI replays its answer as stored (an assignment)", async () => {
    const admin = await stack.token("admin@demo.example");
    const clientId = (await api("POST", "/clients", { token: coach1, body: uniqueClient() })).json.clientId;
    const coach2Id = stack.users.find((user) => user.email === "coach2@demo.example")?.userId;
    const key = randomUUID();
    const path = `/clients/${clientId}/coaches/${coach2Id}`;
    const first = await api("PUT", path, { token: admin, headers: { "Idempotency-Key": key } });
    expect([200, 202]).toContain(first.status);
    const again = await api("PUT", path, { token: admin, headers: { "Idempotency-Key": key } });
    expect(again.status).toBe(first.status);
    expect(again.json).toEqual(first.json);
    expect(again.headers["idempotent-replayed"]).toBe("true");
  });
});

describe("CORS", () => {
  const APP = "https://app.test.example";
  it("a preflight from the app allows the Idempotency-Key header, and a browser may read Idempotent-Replayed", async () => {
    const preflight = await api("OPTIONS", "/clients", { headers: { origin: APP } });
    expect(String(preflight.headers["access-control-allow-headers"])).toContain("Idempotency-Key");
    const key = randomUUID();
    const body = uniqueClient();
    const request = { ...keyed(key, coach1, body), headers: { "Idempotency-Key": key, origin: APP } };
    await api("POST", "/clients", request);
    const replay = await api("POST", "/clients", request);
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    expect(replay.headers["access-control-allow-origin"]).toBe(APP);
    expect(String(replay.headers["access-control-expose-headers"])).toContain("Idempotent-Replayed");
  });
});

describe("misuse", () => {
  it("the same key with another body is 422 IDEMPOTENCY_KEY_REUSED, and nothing is created", async () => {
    const key = randomUUID();
    expect((await api("POST", "/clients", keyed(key, coach1, uniqueClient()))).status).toBe(201);
    const keysBefore = await keyCount();
    const reused = await api("POST", "/clients", keyed(key, coach1, uniqueClient()));
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await keyCount()).toBe(keysBefore);
  });

  it("a malformed key is a 400 naming the header, never echoing it, and nothing runs", async () => {
    const keysBefore = await keyCount();
    const value = "Ida Quorrelby 1964-03-09";
    const res = await api("POST", "/clients", keyed(value, coach1, uniqueClient()));
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([
      { field: "header:Idempotency-Key", rule: "1 to 255 visible ASCII characters" },
    ]);
    expect(res.text).not.toContain(value);
    expect(await keyCount()).toBe(keysBefore);
  });

  it("a request while the first is in flight is 409 IDEMPOTENCY_IN_PROGRESS with Retry-After; once it is gone, the key runs", async () => {
    // Hold the first request's in-progress record exactly as Powertools writes it (same payload, same layer).
    const principal = stack.users.find((user) => user.email === "coach1@demo.example") as {
      orgId: string;
      userId: string;
    };
    const key = randomUUID();
    const body = uniqueClient();
    const route = routes.createClient;
    const payload = await idempotencyPayload(idempotencyScope(route, principal, null, key), {
      body: route.request.body.parse(body),
      query: undefined,
    });
    const held = new DynamoDBPersistenceLayer({
      tableName: tables.idempotency,
      awsSdkV3Client: aws("dynamoRaw"),
    });
    held.configure({
      config: new IdempotencyConfig({
        eventKeyJmesPath: "key",
        payloadValidationJmesPath: "request",
        expiresAfterSeconds: IDEMPOTENCY_EXPIRY_SECONDS,
        hashFunction: "sha256",
      }),
      keyPrefix: route.handler,
    });
    await held.saveInProgress(payload, 60_000);

    const keysBefore = await keyCount();
    const busy = await api("POST", "/clients", keyed(key, coach1, body));
    expect(busy.status).toBe(409);
    expect(busy.json.error.code).toBe("IDEMPOTENCY_IN_PROGRESS");
    expect(busy.headers["retry-after"]).toBe("1");
    expect(await keyCount()).toBe(keysBefore);

    // The first attempt failed and Powertools removed its record: the retry runs.
    await held.deleteRecord(payload);
    const retried = await api("POST", "/clients", keyed(key, coach1, body));
    expect(retried.status).toBe(201);
    expect(retried.headers["idempotent-replayed"]).toBeUndefined();
  });
});

describe("scope", () => {
  it("the same key and body from another user or another org is an independent request", async () => {
    const key = randomUUID();
    const body = uniqueClient();
    const mine = await api("POST", "/clients", keyed(key, coach1, body));
    const colleague = await api("POST", "/clients", keyed(key, coach2, body));
    const stranger = await api("POST", "/clients", keyed(key, otherOrgCoach, body));
    for (const res of [mine, colleague, stranger]) {
      expect(res.status).toBe(201);
      expect(res.headers["idempotent-replayed"]).toBeUndefined();
    }
    expect(new Set([mine, colleague, stranger].map((res) => res.json.clientId)).size).toBe(3);
    // And each one's replay is its own.
    const replay = await api("POST", "/clients", keyed(key, coach2, body));
    expect(replay.json.clientId).toBe(colleague.json.clientId);
  });
});

describe("what is stored", () => {
  it("the idempotency table holds no plaintext PHI, no key and no body: HMACs and sealed answers", async () => {
    const key = `phi-scan-${randomUUID()}`;
    const body = uniqueClient();
    const first = await api("POST", "/clients", keyed(key, coach1, body));
    expect(first.status).toBe(201);
    const items = await scanAll(tables.idempotency);
    const text = JSON.stringify(items);
    // Ids are no PHI (audit entries name them too): the answer's client id stays beside its sealed body.
    for (const value of [body.name, body.dateOfBirth, body.conditions[0], key])
      expect(text).not.toContain(value);
    const sealed = items.filter((item) => item.data?.sealed);
    expect(sealed.length).toBeGreaterThan(0);
    for (const item of items) {
      expect(Number(item.expiration) - Date.now() / 1000).toBeLessThanOrEqual(IDEMPOTENCY_EXPIRY_SECONDS + 5);
      expect(String(item.id)).toMatch(/^[a-z-]+\/[a-z-]+#/);
    }
  });
});

describe("the issue's test", () => {
  it("32 concurrent identical POST /clients with one key create exactly one client (the rest replay or 409, no 5xx)", async () => {
    const key = randomUUID();
    const body = uniqueClient();
    const keysBefore = await keyCount();
    const answers = await Promise.all(
      Array.from({ length: 32 }, () => api("POST", "/clients", keyed(key, coach1, body))),
    );
    const statuses = answers.map((res) => res.status);
    expect(
      statuses.every((status) => status === 201 || status === 409),
      statuses.join(","),
    ).toBe(true);
    const created = answers.filter((res) => res.status === 201);
    expect(created.filter((res) => res.headers["idempotent-replayed"] === undefined)).toHaveLength(1);
    expect(new Set(created.map((res) => res.json.clientId)).size).toBe(1);
    for (const busy of answers.filter((res) => res.status === 409))
      expect(busy.json.error.code).toBe("IDEMPOTENCY_IN_PROGRESS");
    expect(await keyCount()).toBe(keysBefore + 1);
    // A late retry replays the one client.
    const late = await api("POST", "/clients", keyed(key, coach1, body));
    expect(late.json.clientId).toBe(created[0]?.json.clientId);
  });
});

describe("transcript upload", () => {
  it("a keyed PUT of a large transcript stores one version; its replay answers the same and stores nothing", async () => {
    const { clientId, sessionId } = await stack.clientWithRecords(coach1, "Transcript Keyed", [
      "coaching",
      "ai_processing",
    ]);
    const text = `Coach and client talked about walking every morning. ${"We reviewed the plan again. ".repeat(20_000)}`;
    const key = randomUUID();
    const path = `/clients/${clientId}/sessions/${sessionId}/transcript`;
    const first = await api("PUT", path, keyed(key, coach1, { text }));
    expect(first.status).toBe(200);
    expect(first.json.version).toBe(1);
    const again = await api("PUT", path, keyed(key, coach1, { text }));
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    // Still version 1: an unkeyed upload would now be version 2.
    const next = await api("PUT", path, { token: coach1, body: { text } });
    expect(next.json.version).toBe(2);
    const changed = await api("PUT", path, keyed(key, coach1, { text: `${text} More.` }));
    expect(changed.status).toBe(422);
  });
});
