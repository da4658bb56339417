import type { _Record as StreamRecord } from "@aws-sdk/client-dynamodb-streams";
import { describe, expect, it } from "vitest";
import { jobs } from "../../functions/jobs";
import { streamFilterCriteria } from "../cloud/jobs";
import { LEGACY_POSITION_OWNER, passesStreamFilter, positionOf, toLambdaRecord } from "./streams";

describe("local stream records", () => {
  it("reach the handler in the shape Lambda delivers: epoch seconds, the stream's ARN, lower-case user identity", () => {
    const record: StreamRecord = {
      eventID: "e1",
      eventName: "REMOVE",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "ddblocal",
      dynamodb: {
        ApproximateCreationDateTime: new Date("2026-01-01T00:00:05.000Z"),
        Keys: { pk: { S: "ORG#o#SHARD#0" }, seq: { N: "3" } },
        SequenceNumber: "000000000000000000007",
        SizeBytes: 40,
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
      userIdentity: { Type: "Service", PrincipalId: "dynamodb.amazonaws.com" },
    };
    expect(toLambdaRecord(record, "arn:stream")).toEqual({
      eventID: "e1",
      eventName: "REMOVE",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "ddblocal",
      eventSourceARN: "arn:stream",
      userIdentity: { type: "Service", principalId: "dynamodb.amazonaws.com" },
      dynamodb: {
        ApproximateCreationDateTime: 1767225605,
        Keys: { pk: { S: "ORG#o#SHARD#0" }, seq: { N: "3" } },
        SequenceNumber: "000000000000000000007",
        SizeBytes: 40,
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
    });
  });
});

/** Lambda event filtering's test of a record against a pattern, for the operators our filters use. */
function cloudPasses(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern))
    return pattern.some((rule) =>
      typeof rule === "object" && rule !== null && "prefix" in rule
        ? typeof value === "string" && value.startsWith(String(rule.prefix))
        : rule === value,
    );
  if (typeof pattern === "object" && pattern !== null)
    return Object.entries(pattern).every(([key, inner]) =>
      cloudPasses(inner, (value as Record<string, unknown> | undefined)?.[key]),
    );
  return false;
}

describe("stream filters: the detectors see only what they observe, locally as in the cloud", () => {
  const record = (eventName: StreamRecord["eventName"], pk: string, sk: string): StreamRecord => ({
    eventName,
    dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } }, SequenceNumber: "1" },
  });
  const signal = record("INSERT", "ORG#o#SIGNALS", "SIGNAL#2026-03-02T15:00:00.000Z#denied#r1");
  const others = [
    record("MODIFY", "ORG#o#DETECT", "W#repeated_denials#u1#42"),
    record("INSERT", "ORG#o#DETECT", "W#repeated_denials#u1#43"),
    record("INSERT", "ORG#o#EVENTS", "EVENT#x"),
    record("INSERT", "OUTBOX#EVENTS", "x"),
    record("REMOVE", "ORG#o#SIGNALS", "SIGNAL#2026-01-01T00:00:00.000Z#denied#r0"),
    record("MODIFY", "ORG#o#SIGNALS", "SIGNAL#2026-03-02T15:00:00.000Z#denied#r1"),
  ];
  it("detectSignals gets new signals only: never its own state, findings, outbox items or TTL removals", () => {
    const filter = jobs.detectSignals.trigger.filter;
    expect(passesStreamFilter(filter, signal)).toBe(true);
    for (const other of others) expect(passesStreamFilter(filter, other), JSON.stringify(other)).toBe(false);
    expect(passesStreamFilter(jobs.detectAudit.trigger.filter, record("REMOVE", "ORG#o#SHARD#0", "1"))).toBe(
      false,
    );
    // The witness must see every change: no filter.
    expect(passesStreamFilter(undefined, record("REMOVE", "ORG#o#SHARD#0", "1"))).toBe(true);
  });
  it("the local test and the cloud's filter pattern agree on every record", () => {
    for (const filter of [jobs.detectSignals.trigger.filter, jobs.detectAudit.trigger.filter]) {
      const pattern = JSON.parse(streamFilterCriteria(filter).pattern);
      for (const candidate of [signal, ...others])
        expect(passesStreamFilter(filter, candidate)).toBe(cloudPasses(pattern, candidate));
    }
  });
});

describe("stream positions of an existing .local", () => {
  it("the witness carries on from a position saved before positions were per job; other jobs do not take it", () => {
    const legacy = { "arn:audit|shard-1": "000000000000000000042" };
    expect(LEGACY_POSITION_OWNER).toBe("auditWitness");
    expect(jobs.auditWitness.trigger).toMatchObject({ stream: "audit" });
    expect(positionOf(legacy, "auditWitness", "arn:audit", "shard-1")).toBe("000000000000000000042");
    expect(positionOf(legacy, "auditWitness", "arn:audit", "shard-2")).toBeUndefined();
    expect(positionOf(legacy, "detectAudit", "arn:audit", "shard-1")).toBeUndefined();
    // Once the witness has saved its own position, that one counts.
    const both = { ...legacy, "auditWitness|arn:audit|shard-1": "000000000000000000050" };
    expect(positionOf(both, "auditWitness", "arn:audit", "shard-1")).toBe("000000000000000000050");
  });
});
