import { DecryptCommand } from "@aws-sdk/client-kms";
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { createClient, getClient, listClients, updateClient } from "../../functions/clients/service";
import { readOrgChains, verifyChain } from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { dataKeyItemKey, forgetDataKey } from "../../shared/crypto";
import { testStack } from "../support/stack";

/** What is actually stored: sealed fields, a wrapped key, an audit entry per PHI access, nothing in clear. */
testStack();

const principal = { userId: "coach-enc", orgId: "enc-test", role: "coach" as const };
const meta = { requestId: "req-enc", sourceIp: "127.0.0.1", userAgent: "vitest" };
const PHI = {
  name: "Orla Brightwater",
  email: "orla.b@patients.example",
  conditions: ["asthma"],
  status: "active" as const,
};

const rawClient = async (clientId: string) =>
  (
    await aws("dynamo").send(
      new GetCommand({
        TableName: getConfig().TABLE_RECORDS,
        Key: { pk: `ORG#${principal.orgId}`, sk: `CLIENT#${clientId}` },
      }),
    )
  ).Item as Record<string, any>;

describe("encryption at rest", () => {
  it("stores no PHI in clear, only sealed fields and a KMS-wrapped key", async () => {
    const created = await createClient(principal, meta, PHI);
    const raw = JSON.stringify(await rawClient(created.clientId as string));
    for (const value of ["Orla", "Brightwater", "orla.b", "asthma"]) expect(raw).not.toContain(value);
    const item = await rawClient(created.clientId as string);
    expect(Object.keys(item.phi).sort()).toEqual(["conditions", "email", "name"]);
    for (const sealed of Object.values(item.phi)) expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    const keyItem = (
      await aws("dynamo").send(
        new GetCommand({
          TableName: getConfig().TABLE_KEYS,
          Key: dataKeyItemKey({ orgId: principal.orgId, clientId: created.clientId as string }),
        }),
      )
    ).Item;
    expect(keyItem?.wrappedKey).toEqual(expect.any(String));
    // The wrapped key opens only under its own encryption context.
    await expect(
      aws("kms").send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(keyItem?.wrappedKey, "base64"),
          EncryptionContext: { orgId: "other", clientId: created.clientId as string },
        }),
      ),
    ).rejects.toThrow();
  });

  it("a ciphertext moved to another field or client fails its integrity check", async () => {
    const created = await createClient(principal, meta, PHI);
    const item = await rawClient(created.clientId as string);
    item.phi.email = item.phi.name;
    await aws("dynamo").send(new PutCommand({ TableName: getConfig().TABLE_RECORDS, Item: item }));
    await expect(getClient(principal, meta, created.clientId as string)).rejects.toMatchObject({
      code: "INTEGRITY_ERROR",
    });
  });

  it("deleting the wrapped key crypto-shreds the client", async () => {
    const created = await createClient(principal, meta, PHI);
    const ref = { orgId: principal.orgId, clientId: created.clientId as string };
    await aws("dynamo").send(
      new DeleteCommand({ TableName: getConfig().TABLE_KEYS, Key: dataKeyItemKey(ref) }),
    );
    forgetDataKey(ref);
    await expect(getClient(principal, meta, ref.clientId)).rejects.toMatchObject({
      code: "DATA_KEY_UNAVAILABLE",
    });
  });

  it("a shredded client in a list costs its own PHI, never the list", async () => {
    const lister = { ...principal, userId: "coach-enc-list" };
    const kept = await createClient(lister, meta, PHI);
    const shredded = await createClient(lister, meta, { ...PHI, name: "Shredded Person" });
    const ref = { orgId: lister.orgId, clientId: shredded.clientId as string };
    await aws("dynamo").send(
      new DeleteCommand({ TableName: getConfig().TABLE_KEYS, Key: dataKeyItemKey(ref) }),
    );
    forgetDataKey(ref);
    const { items } = await listClients(lister, meta, {});
    const byId = new Map(items.map((item) => [item.clientId, item]));
    expect(byId.get(kept.clientId as string)).toMatchObject({ name: PHI.name });
    expect(byId.get(ref.clientId)).toMatchObject({ clientId: ref.clientId, phiUnavailable: true });
    expect(byId.get(ref.clientId)).not.toHaveProperty("name");
  });

  it("every PHI write and read has its audit entry; a refused write has none", async () => {
    const created = await createClient(principal, meta, PHI);
    const clientId = created.clientId as string;
    await getClient(principal, meta, clientId);
    await expect(
      updateClient(principal, meta, clientId, { version: 7, name: "Changed Name" }),
    ).rejects.toMatchObject({
      code: "VERSION_CONFLICT",
    });
    const chains = await readOrgChains(principal.orgId);
    for (const chain of chains) expect(verifyChain(chain)).toBeUndefined();
    const entries = chains.flat();
    const mine = entries
      .map((e) => JSON.parse(e.entry))
      .filter((e) => e.resource.clientId === clientId)
      .sort((a, b) => a.time.localeCompare(b.time));
    expect(mine.map((e) => e.action)).toEqual(["client.create", "client.read"]);
    expect(mine[1].fields).toEqual(["conditions", "email", "name"]);
    const text = JSON.stringify(entries);
    for (const value of ["Orla", "orla.b", "asthma", "Changed Name"]) expect(text).not.toContain(value);
  });
});
