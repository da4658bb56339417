import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIST_PAGE_BOUND, resetConfig } from "../../shared/config";
import { cursorKey } from "../../shared/crypto";
import { cursorScope, sealWith } from "../../shared/store/cursor";
import { invokeRoute } from "../support/invoke";
import { testStack } from "../support/stack";

/**
 * List cursors are sealed for one caller and one list, point at the last item returned, and pages are
 * full however many of an org's clients the caller may not see.
 */
const stack = testStack();
const { api } = stack;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const idOf = (email: string) => stack.users.find((u) => u.email === email)?.userId as string;

let lead: string;
let admin: string;
let otherAdmin: string;
let coach1: string;
let coach2: string;
let compliance: string;
const teamClients: string[] = [];
const hiddenClients: string[] = [];
const cursorsSeen: string[] = [];

const create = async (token: string, name: string) =>
  (await api("POST", "/clients", { token, body: { name } })).json.clientId as string;

beforeAll(async () => {
  [lead, admin, otherAdmin, coach1, coach2, compliance] = (await Promise.all(
    [
      "lead@demo.example",
      "admin@demo.example",
      "admin@other.example",
      "coach1@demo.example",
      "coach2@demo.example",
      "compliance@demo.example",
    ].map((email) => stack.token(email)),
  )) as [string, string, string, string, string, string];
  // coach1 is on the lead's team, coach2 is not: most of these clients are invisible to the lead.
  for (let i = 0; i < 4; i++) teamClients.push(await create(coach1, `Team Client ${i}`));
  for (let batch = 0; batch < 2; batch++)
    hiddenClients.push(
      ...(await Promise.all(
        Array.from({ length: 8 }, (_, i) => create(coach2, `Hidden Client ${batch}-${i}`)),
      )),
    );
});

type Listed = { status: number; items: { clientId: string }[]; nextCursor?: string; code?: string };
async function list(token: string, path: string, cursor?: string): Promise<Listed> {
  const separator = path.includes("?") ? "&" : "?";
  const res = await api("GET", `${path}${cursor ? `${separator}cursor=${encodeURIComponent(cursor)}` : ""}`, {
    token,
  });
  if (res.json?.nextCursor) cursorsSeen.push(res.json.nextCursor);
  return { status: res.status, ...res.json, code: res.json?.error?.code };
}

async function allPages(token: string, path: string, limit: number) {
  const pages: Listed[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(token, `${path}${path.includes("?") ? "&" : "?"}limit=${limit}`, cursor);
    expect(page.status, `page ${pages.length + 1}: ${page.code}`).toBe(200);
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor && pages.length < 1000);
  return pages;
}

const expectInvalid = (page: Listed) => {
  expect(page.status).toBe(400);
  expect(page.code).toBe("INVALID_CURSOR");
};

describe("a lead pages through an org where most clients are invisible to them", () => {
  it("every page is full until the end, and the pages hold exactly the clients the lead may see", async () => {
    const pages = await allPages(lead, "/clients", 3);
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages.slice(0, -1)) expect(page.items).toHaveLength(3);
    const seen = pages.flatMap((page) => page.items.map((item) => item.clientId));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(teamClients));
    for (const hidden of hiddenClients) expect(seen).not.toContain(hidden);
    // The same clients as one big page: paging loses none and adds none.
    const whole = await list(lead, `/clients?limit=${LIST_PAGE_BOUND}`);
    if (!whole.nextCursor) expect(new Set(seen)).toEqual(new Set(whole.items.map((item) => item.clientId)));
  });

  it("a cursor opens only for that lead and that list", async () => {
    const first = await list(lead, "/clients?limit=1");
    const cursor = first.nextCursor as string;
    expect(cursor).toBeDefined();
    expect((await list(lead, "/clients?limit=1", cursor)).status).toBe(200);
    // Another user of the org (admin, coach), another org.
    for (const token of [admin, coach1, otherAdmin])
      expectInvalid(await list(token, "/clients?limit=1", cursor));
    // One edited character anywhere.
    const middle = Math.floor(cursor.length / 2);
    const edited = `${cursor.slice(0, middle)}${cursor[middle] === "A" ? "B" : "A"}${cursor.slice(middle + 1)}`;
    expectInvalid(await list(lead, "/clients?limit=1", edited));
    // Sealed with the deployment's own key for this lead and list: fresh it opens, 25 hours old it does not.
    const scope = cursorScope({ orgId: "demo", userId: idOf("lead@demo.example") }, "listClients", {
      role: "coach_lead",
    });
    const position = { sk: `CLIENT#${first.items[0]?.clientId}` };
    const key = await cursorKey();
    expect((await list(lead, "/clients?limit=1", sealWith(key, scope, position))).status).toBe(200);
    expectInvalid(
      await list(lead, "/clients?limit=1", sealWith(key, scope, position, Date.now() - 25 * 3_600_000)),
    );
  });

  it("audit cursors open only on the list and query they came from", async () => {
    await api("GET", `/clients/${teamClients[0]}`, { token: coach1 }); // one more disclosure to page over
    const entries = await list(compliance, "/audit/entries?limit=1");
    const entryCursor = entries.nextCursor as string;
    expect((await list(compliance, "/audit/entries?limit=1", entryCursor)).status).toBe(200);
    expectInvalid(
      await list(compliance, `/audit/entries?limit=1&actorId=${idOf("lead@demo.example")}`, entryCursor),
    );
    expectInvalid(await list(compliance, `/clients/${teamClients[0]}/disclosures?limit=1`, entryCursor));
    const disclosures = await list(compliance, `/clients/${teamClients[0]}/disclosures?limit=1`);
    const disclosureCursor = disclosures.nextCursor as string;
    expect(disclosureCursor).toBeDefined();
    expect(
      (await list(compliance, `/clients/${teamClients[0]}/disclosures?limit=1`, disclosureCursor)).status,
    ).toBe(200);
    expectInvalid(await list(compliance, `/clients/${teamClients[1]}/disclosures?limit=1`, disclosureCursor));
    expectInvalid(await list(compliance, "/audit/entries?limit=1", disclosureCursor));
  });

  it("no cursor reveals a client id, or anything else readable", () => {
    expect(cursorsSeen.length).toBeGreaterThan(5);
    for (const cursor of cursorsSeen) {
      const bytes = Buffer.from(cursor, "base64url");
      for (const text of [
        cursor,
        bytes.toString("utf8"),
        bytes.toString("latin1"),
        Buffer.from(cursor, "base64").toString(),
      ]) {
        expect(text).not.toMatch(UUID);
        expect(text).not.toMatch(/CLIENT#|ASSIGN#|ORG#|"sk"/);
      }
    }
  });
});

describe("page size", () => {
  const saved = process.env.LIST_PAGE_MAX;
  afterAll(() => {
    if (saved === undefined) delete process.env.LIST_PAGE_MAX;
    else process.env.LIST_PAGE_MAX = saved;
    resetConfig();
  });

  it("a list at the largest page size commits its audit transaction (entry + a pointer per client)", async () => {
    const listed = (await list(coach2, `/clients?limit=${LIST_PAGE_BOUND}`)).items.length;
    for (let made = listed; made < LIST_PAGE_BOUND + 1; made += 10)
      await Promise.all(Array.from({ length: 10 }, (_, i) => create(coach2, `Bulk Client ${made + i}`)));
    process.env.LIST_PAGE_MAX = String(LIST_PAGE_BOUND);
    resetConfig();
    const res = await invokeRoute("GET", `/clients?limit=${LIST_PAGE_BOUND}`, { token: coach2 });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.items).toHaveLength(LIST_PAGE_BOUND);
    expect(res.json.items.every((item: { name?: string }) => typeof item.name === "string")).toBe(true);
    expect(res.json.nextCursor).toBeDefined();
  });

  it("refuses a client page above the bound (audit pages, which write no pointers, keep their 100)", async () => {
    expect((await list(coach2, `/clients?limit=${LIST_PAGE_BOUND + 1}`)).status).toBe(400);
    expect((await list(compliance, "/audit/entries?limit=101")).status).toBe(400);
  });
});
