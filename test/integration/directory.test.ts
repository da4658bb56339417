import { randomUUID } from "node:crypto";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { changeKey } from "../../shared/access";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { teamOf, teamPartition, userItem } from "../../shared/people";
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
