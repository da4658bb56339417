import { randomUUID } from "node:crypto";
import { GetCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { moveDirectoryOutOfRecords, provisionTables } from "../../infra/local/provision";
import { TABLES, type TableName } from "../../infra/resources";
import { changeKey } from "../../shared/access";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { orgRegistryItem, pendingSyncItem, teamOf, teamPartition, userItem } from "../../shared/people";
import { testStack } from "../support/stack";

/**
 * The directory's team index spans the whole table, and a function holding only `changes:hold` may write
 * any attributes into a held change's partition (IAM limits the partition, not the attributes). Such an
 * item must not make anyone a member of a lead's team (which gives the lead their clients).
 */
testStack();
const put = (Item: Record<string, unknown>) =>
  aws("dynamo").send(new PutCommand({ TableName: getConfig().TABLE_DIRECTORY, Item }));

describe("the directory's team index", () => {
  it("counts users only: an item in a held-change partition carrying a team key joins no team", async () => {
    const orgId = `dir-${randomUUID().slice(0, 12)}`;
    const [leadId, coachId, victimId] = [randomUUID(), randomUUID(), randomUUID()];
    const now = new Date().toISOString();
    await put(
      userItem({
        userId: coachId,
        username: coachId,
        orgId,
        email: "coach@dir.example",
        role: "coach",
        status: "active",
        leadId,
        version: 1,
        createdAt: now,
        updatedAt: now,
      }),
    );
    await put({
      ...changeKey(orgId, randomUUID()),
      userId: victimId,
      gsi1pk: teamPartition(orgId, leadId),
      gsi1sk: `USER#${victimId}`,
    });
    expect([...(await teamOf(orgId, leadId))]).toEqual([coachId]);
  });
});

describe("a .local from before the directory table", () => {
  it("moves its people out of the records table when npm start creates the directory table, and leaves client records", async () => {
    const run = randomUUID().slice(0, 8);
    const names = Object.fromEntries(
      Object.keys(TABLES).map((table) => [table, `old-${run}-${table}`]),
    ) as Record<TableName, string>;
    expect((await provisionTables(names)).sort()).toEqual(Object.keys(TABLES).sort());
    const now = new Date().toISOString();
    const user = {
      userId: "u1",
      username: "u1",
      orgId: "old",
      email: "admin@old.example",
      role: "admin" as const,
      status: "active" as const,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const people = [
      userItem(user),
      { pk: "ORG#old", sk: "INVITE#i1", inviteId: "i1", status: "pending" },
      { pk: "ORG#old", sk: "BOOTSTRAP", userId: "u1" },
      orgRegistryItem("old"),
      pendingSyncItem(user).item.Put.Item,
    ];
    const change = {
      pk: "ORG#old",
      sk: "CHANGE#c1",
      changeId: "c1",
      gsi1pk: "ORG#old#CHANGES#PENDING",
      gsi1sk: now,
    };
    const client = { pk: "ORG#old", sk: "CLIENT#c9", clientId: "c9" };
    const pointer = { pk: "ORG#old#DISCLOSED#c9", sk: `${now}#chain`, chain: "chain", seq: 1 };
    for (const Item of [...people, change, client, pointer])
      await aws("dynamo").send(new PutCommand({ TableName: names.records, Item }));

    expect(await moveDirectoryOutOfRecords(names)).toBe(people.length + 1);
    const scan = async (table: string) =>
      ((await aws("dynamo").send(new ScanCommand({ TableName: table }))).Items ?? []).map(
        (item) => `${item.pk}|${item.sk}`,
      );
    expect((await scan(names.records)).sort()).toEqual(
      [`${client.pk}|${client.sk}`, `${pointer.pk}|${pointer.sk}`].sort(),
    );
    const moved = changeKey("old", "c1");
    expect((await scan(names.directory)).sort()).toEqual(
      [...people.map((item) => `${item.pk}|${item.sk}`), `${moved.pk}|${moved.sk}`].sort(),
    );
    const stored = await aws("dynamo").send(new GetCommand({ TableName: names.directory, Key: moved }));
    expect(stored.Item).toMatchObject({ changeId: "c1", gsi1pk: "ORG#old#CHANGES#PENDING" });
  });
});
