import { randomUUID } from "node:crypto";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assignCoach, unassignCoach } from "../../functions/assignments/service";
import { reassignClients } from "../../functions/users/service";
import type { Principal } from "../../shared/auth";
import type { Role } from "../../shared/auth/roles";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { AppError } from "../../shared/errors";
import { type UserRecord, userItem } from "../../shared/people";
import { clientKey, recordsWithPrefix } from "../../shared/store";
import { testStack } from "../support/stack";

/**
 * A client's coach list (which decides access) and the ASSIGN#<coach>#<client> items (which list a coach's
 * clients) never disagree, whatever sequence of assign / unassign / reassign an admin sends: repeated
 * operations, a coach reassigned to themselves, targets that may not coach (compliance officer, admin,
 * disabled coach), several coaches and clients. Through the services, against DynamoDB Local.
 */
testStack();
const meta = { requestId: "property", sourceIp: "127.0.0.1", userAgent: "vitest" };

/** The people of each run's org: who may coach (coach, lead) and who may not. */
const PEOPLE: readonly { role: Role; status: UserRecord["status"] }[] = [
  { role: "coach", status: "active" },
  { role: "coach", status: "active" },
  { role: "coach_lead", status: "active" },
  { role: "compliance_officer", status: "active" },
  { role: "admin", status: "active" },
  { role: "coach", status: "disabled" },
];
const CLIENTS = 3;

type Op =
  | { op: "assign"; client: number; user: number }
  | { op: "unassign"; client: number; user: number }
  | { op: "reassign"; from: number; to: number };

const person = fc.integer({ min: 0, max: PEOPLE.length - 1 });
const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const operation: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("assign" as const), client, user: person }),
  fc.record({ op: fc.constant("assign" as const), client, user: person }),
  fc.record({ op: fc.constant("unassign" as const), client, user: person }),
  fc.record({ op: fc.constant("reassign" as const), from: person, to: person }),
  person.map((user): Op => ({ op: "reassign", from: user, to: user })),
);

const put = (Item: Record<string, unknown>, table = getConfig().TABLE_RECORDS) =>
  aws("dynamo").send(new PutCommand({ TableName: table, Item }));

/** A fresh org for one run: its admin, the people above (no admin touched them) and clients with no coach. */
async function freshOrg() {
  const orgId = `prop-${randomUUID().slice(0, 12)}`;
  const now = new Date().toISOString();
  const admin: Principal = { userId: randomUUID(), orgId, role: "admin" };
  const people = PEOPLE.map(({ role, status }) => ({ userId: randomUUID(), role, status }));
  for (const user of [{ userId: admin.userId, role: admin.role, status: "active" as const }, ...people]) {
    await put(
      userItem({
        ...user,
        username: user.userId,
        orgId,
        email: `${user.userId}@prop.example`,
        version: 1,
        createdAt: now,
        updatedAt: now,
      }),
      getConfig().TABLE_DIRECTORY,
    );
  }
  const clientIds = Array.from({ length: CLIENTS }, () => randomUUID());
  for (const clientId of clientIds) {
    await put({
      ...clientKey(orgId, clientId),
      clientId,
      status: "active",
      version: 1,
      createdAt: now,
      updatedAt: now,
      createdBy: admin.userId,
      coaches: [],
      phi: {},
    });
  }
  return { admin, people, clientIds };
}

/** Each client's coach list, and the coaches its ASSIGN items name. */
async function snapshot(orgId: string, clientIds: readonly string[]) {
  const assignments = await recordsWithPrefix<{ coachId: string; clientId: string }>(orgId, "ASSIGN#");
  const clients = await recordsWithPrefix<{ clientId: string; coaches: string[] }>(orgId, "CLIENT#");
  return clientIds.map((clientId) => ({
    list: clients.find((found) => found.clientId === clientId)?.coaches ?? [],
    items: assignments.filter((item) => item.clientId === clientId).map((item) => item.coachId),
  }));
}

describe("assignments (property)", () => {
  it("a client's coach list and its assignment items always agree, and only coaches are on it", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 10 }), async (ops) => {
        const { admin, people, clientIds } = await freshOrg();
        const id = (index: number) => (people[index] as { userId: string }).userId;
        for (const step of ops) {
          try {
            if (step.op === "assign")
              await assignCoach(admin, meta, clientIds[step.client] as string, id(step.user));
            else if (step.op === "unassign")
              await unassignCoach(admin, meta, clientIds[step.client] as string, id(step.user));
            else await reassignClients(admin, meta, id(step.from), id(step.to));
          } catch (error) {
            // Refusals (an ineligible target, a coach reassigned to themselves) are fine; anything else is not.
            if (!(error instanceof AppError) || error.kind !== "invalid") throw error;
          }
        }
        const mayCoach = new Set<string>(
          people
            .filter((p) => p.status === "active" && ["coach", "coach_lead"].includes(p.role))
            .map((p) => p.userId),
        );
        for (const { list, items } of await snapshot(admin.orgId, clientIds)) {
          expect(new Set(list).size).toBe(list.length);
          expect([...list].sort()).toEqual([...items].sort());
          for (const coachId of list) expect(mayCoach.has(coachId)).toBe(true);
        }
      }),
      { numRuns: 20 },
    );
  });
});
