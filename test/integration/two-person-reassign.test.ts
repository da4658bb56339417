import { randomUUID } from "node:crypto";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { approveChange } from "../../functions/changes/service";
import { assignmentKey } from "../../functions/clients/service";
import { reassignClients } from "../../functions/users/service";
import { isHeld, MAX_HELD_CLIENTS, pendingChanges } from "../../shared/access";
import type { Principal } from "../../shared/auth";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { type UserRecord, userItem } from "../../shared/people";
import { clientKey, recordsWithPrefix } from "../../shared/store";
import { testStack } from "../support/stack";

/**
 * A held reassignment is applied, on approval, in one DynamoDB transaction with the approval (at most 100
 * items): up to MAX_HELD_CLIENTS clients move at once; a larger one is refused when it is requested,
 * not half-applied when it is approved. Through the services, against DynamoDB Local.
 */
testStack();
const meta = { requestId: "two-person", sourceIp: "127.0.0.1", userAgent: "vitest" };
const put = (Item: Record<string, unknown>, table = getConfig().TABLE_RECORDS) =>
  aws("dynamo").send(new PutCommand({ TableName: table, Item }));

/** An org whose departing coach has `clients` clients, and a successor the admin has just invited. */
async function orgWithDepartingCoach(clients: number) {
  const orgId = `held-${randomUUID().slice(0, 12)}`;
  const now = new Date().toISOString();
  const person = (role: UserRecord["role"], touchedBy?: Record<string, string>): UserRecord => {
    const userId = randomUUID();
    return {
      userId,
      username: userId,
      orgId,
      email: `${role}@held.example`,
      role,
      status: "active",
      ...(touchedBy && { touchedBy }),
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
  };
  const admin = person("admin");
  const lead = person("coach_lead");
  const departing = person("coach");
  const successor = person("coach", { [admin.userId]: now });
  for (const user of [admin, lead, departing, successor])
    await put(userItem(user), getConfig().TABLE_DIRECTORY);
  const clientIds = Array.from({ length: clients }, () => randomUUID());
  for (const clientId of clientIds) {
    await put({
      ...clientKey(orgId, clientId),
      clientId,
      status: "active",
      version: 1,
      createdAt: now,
      updatedAt: now,
      createdBy: departing.userId,
      coaches: [departing.userId],
      phi: {},
    });
    await put({ ...assignmentKey(orgId, departing.userId, clientId), coachId: departing.userId, clientId });
  }
  const principal = (user: UserRecord): Principal => ({ userId: user.userId, orgId, role: user.role });
  return { orgId, admin: principal(admin), lead: principal(lead), departing, successor, clientIds };
}

describe("held reassignments", () => {
  it(`move up to ${MAX_HELD_CLIENTS} clients in one transaction on approval`, async () => {
    const org = await orgWithDepartingCoach(MAX_HELD_CLIENTS);
    const held = await reassignClients(org.admin, meta, org.departing.userId, org.successor.userId);
    expect(isHeld(held)).toBe(true);
    const changeId = (held as { changeId: string }).changeId;
    expect(await recordsWithPrefix(org.orgId, `ASSIGN#${org.successor.userId}#`)).toEqual([]);

    const approved = await approveChange(org.lead, meta, changeId);
    expect(approved).toMatchObject({ changeId, status: "approved" });
    const clients = await recordsWithPrefix<{ coaches: string[] }>(org.orgId, "CLIENT#");
    expect(clients.map((client) => client.coaches)).toEqual(org.clientIds.map(() => [org.successor.userId]));
    expect(await recordsWithPrefix(org.orgId, `ASSIGN#${org.departing.userId}#`)).toEqual([]);
    expect(await recordsWithPrefix(org.orgId, `ASSIGN#${org.successor.userId}#`)).toHaveLength(
      MAX_HELD_CLIENTS,
    );
  });

  it("refuse more than that when they are requested, and change nothing", async () => {
    const org = await orgWithDepartingCoach(MAX_HELD_CLIENTS + 1);
    await expect(
      reassignClients(org.admin, meta, org.departing.userId, org.successor.userId),
    ).rejects.toMatchObject({ code: "CHANGE_TOO_LARGE" });
    expect(await recordsWithPrefix(org.orgId, `ASSIGN#${org.departing.userId}#`)).toHaveLength(
      MAX_HELD_CLIENTS + 1,
    );
    expect(await pendingChanges(org.orgId)).toEqual([]);
  });
});
