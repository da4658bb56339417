import { describe, expect, it } from "vitest";
import { indexAttributes } from "./chain";
import { type AuditEntry, canonicalEntry } from "./entry";
import { attributeProblem } from "./indexes";

const entry: AuditEntry = {
  v: 2,
  time: "2026-01-01T00:00:00.000Z",
  actor: { type: "user", id: "u1", role: "coach", orgId: "o1" },
  action: "client.read",
  resource: { type: "client", id: "c1", clientId: "c1" },
  fields: ["name"],
  outcome: "success",
  requestId: "r1",
  sourceIp: "127.0.0.1",
  userAgent: "test",
  breakGlass: false,
  basis: ["assigned"],
};
const chain = "ORG#o1#SHARD#0";
const item = (content: object) => ({
  pk: chain,
  seq: 7,
  prevHash: "p",
  hash: "h",
  entry: canonicalEntry(content as AuditEntry),
});

describe("index attributes of an audit item", () => {
  it("an item written by the chain writer is consistent", () => {
    expect(attributeProblem("o1", { ...item(entry), ...indexAttributes(entry, chain, 7) })).toBeUndefined();
  });

  it("a number where a string belongs is a difference too", () => {
    expect(
      attributeProblem("o1", {
        ...item(entry),
        ...indexAttributes(entry, chain, 7),
        time: Date.parse(entry.time),
      }),
    ).toBe("time");
  });

  it("an entry claiming another org than the chain's is named by its org", () => {
    const foreign = { ...entry, actor: { ...entry.actor, orgId: "o2" } };
    expect(attributeProblem("o1", { ...item(foreign), ...indexAttributes(foreign, chain, 7) })).toBe("org");
  });

  it("a version 1 item carries its time and nothing an index would find it by", () => {
    const { basis: _, ...rest } = entry;
    const v1 = { ...rest, v: 1 };
    expect(attributeProblem("o1", { ...item(v1), time: entry.time })).toBeUndefined();
    expect(attributeProblem("o1", { ...item(v1), time: entry.time, actor: "ORG#o1#USER#u1" })).toBe("actor");
  });

  it("text that is not an entry is left to the chain check", () => {
    expect(attributeProblem("o1", { ...item(entry), entry: "not json", planted: 1 })).toBeUndefined();
  });
});
