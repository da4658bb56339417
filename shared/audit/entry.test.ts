import { describe, expect, it } from "vitest";
import { LIST_PAGE_BOUND } from "../config";
import {
  type AuditEntry,
  canonicalEntry,
  chainHash,
  GENESIS_HASH,
  MAX_ENTRY_ID,
  MAX_ENTRY_USER_AGENT,
  parseEntry,
} from "./entry";
import { verifyChain } from "./verify";

const entry = (action: string): AuditEntry => ({
  v: 2,
  time: "2026-01-01T00:00:00.000Z",
  actor: { type: "user", id: "u1", role: "coach", orgId: "o1" },
  action,
  resource: { type: "client", id: "c1", clientId: "c1" },
  fields: ["name"],
  outcome: "success",
  requestId: "r1",
  sourceIp: "127.0.0.1",
  userAgent: "test",
  breakGlass: false,
  basis: ["assigned"],
});

function chain(actions: string[]) {
  let previous = GENESIS_HASH;
  return actions.map((action, index) => {
    const text = canonicalEntry(entry(action));
    const hash = chainHash(previous, index + 1, text);
    const stored = { pk: "c", seq: index + 1, prevHash: previous, hash, entry: text };
    previous = hash;
    return stored;
  });
}

describe("audit entries", () => {
  it("canonicalize with sorted keys regardless of insertion order", () => {
    const a = canonicalEntry(entry("x"));
    const reordered = JSON.parse(a);
    const b = canonicalEntry(Object.fromEntries(Object.entries(reordered).reverse()) as AuditEntry);
    expect(a).toBe(b);
    expect(a.startsWith('{"action":"x","actor":')).toBe(true);
  });

  it("verify an intact chain and name the first broken link", () => {
    const stored = chain(["a", "b", "c", "d"]);
    expect(verifyChain(stored)).toBeUndefined();
    const swapped = [stored[0], stored[2], stored[1], stored[3]].map((s, i) => ({
      ...(s as object),
      seq: i + 1,
    })) as typeof stored;
    expect(verifyChain(swapped)).toMatchObject({ seq: 2, problem: "link" });
    const rehashedAlone = stored.map((s) => ({ ...s }));
    (rehashedAlone[1] as (typeof stored)[number]).entry = canonicalEntry(entry("evil"));
    expect(verifyChain(rehashedAlone)).toMatchObject({ seq: 2, problem: "hash" });
    expect(verifyChain(stored.slice(1))).toMatchObject({ seq: 2, problem: "gap" });
  });

  it("parse only what is an entry: text that is no entry, or not text at all, is undefined (never a throw)", () => {
    const current = entry("client.read");
    expect(parseEntry(canonicalEntry(current))).toEqual(current);
    const { basis: _, ...older } = current;
    expect(parseEntry(JSON.stringify({ ...older, v: 1 }))).toEqual({ ...older, v: 1 });
    const notEntries: unknown[] = [
      "{}",
      "1",
      "[]",
      '"x"',
      "null",
      "true",
      "not json",
      "",
      1,
      null,
      undefined,
      { ...current },
      JSON.stringify({ ...current, planted: "x" }), // strict: no key an entry does not have
      JSON.stringify({ ...current, v: 3 }),
      JSON.stringify({ ...current, v: 1 }), // version 1 has no basis
      JSON.stringify({ ...current, actor: { ...current.actor, orgId: "" } }),
      JSON.stringify({ ...current, time: "yesterday" }),
      JSON.stringify({ ...current, fields: "name" }),
      JSON.stringify({ ...current, basis: ["friend"] }),
    ];
    for (const text of notEntries) expect(parseEntry(text), String(text)).toBeUndefined();
  });

  it("bound every string, so that no id an entry names makes a key too long to read (review-3 H3)", () => {
    const current = entry("client.read");
    const longest = "i".repeat(MAX_ENTRY_ID);
    const ids = Array.from({ length: LIST_PAGE_BOUND }, (_, i) => `${i}`.padStart(MAX_ENTRY_ID, "c"));
    const within: AuditEntry[] = [
      { ...current, resource: { type: longest, id: longest, clientId: longest, clientIds: ids } },
      { ...current, actor: { ...current.actor, id: longest, role: longest, orgId: longest } },
      { ...current, action: longest, fields: [longest], requestId: longest, sourceIp: longest },
      { ...current, userAgent: "a".repeat(MAX_ENTRY_USER_AGENT) },
    ];
    for (const fits of within) expect(parseEntry(canonicalEntry(fits))).toEqual(fits);
    const over = `${longest}x`;
    const beyond: unknown[] = [
      { ...current, resource: { ...current.resource, clientId: over } },
      { ...current, resource: { ...current.resource, clientId: "" } },
      { ...current, resource: { ...current.resource, clientIds: [over] } },
      { ...current, resource: { ...current.resource, clientIds: [...ids, "one-more"] } },
      { ...current, resource: { ...current.resource, id: over } },
      { ...current, resource: { ...current.resource, type: over } },
      { ...current, actor: { ...current.actor, id: over } },
      { ...current, actor: { ...current.actor, orgId: over } },
      { ...current, actor: { ...current.actor, role: over } },
      { ...current, action: over },
      { ...current, fields: [over] },
      { ...current, requestId: over },
      { ...current, sourceIp: over },
      { ...current, userAgent: "a".repeat(MAX_ENTRY_USER_AGENT + 1) },
    ];
    for (const text of beyond)
      expect(parseEntry(JSON.stringify(text)), JSON.stringify(text).slice(0, 300)).toBeUndefined();
  });

  it("a chain holding text that hashes right but is no entry names it as an `entry` problem", () => {
    const stored = chain(["a", "b", "c"]);
    const poison = { pk: "c", seq: 4, prevHash: stored[2]?.hash as string, entry: "{}" };
    const poisoned = [...stored, { ...poison, hash: chainHash(poison.prevHash, 4, "{}") }];
    expect(verifyChain(poisoned)).toEqual({ chain: "c", seq: 4, problem: "entry" });
  });
});
