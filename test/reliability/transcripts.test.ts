import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { transcriptPrefix } from "../../functions/transcripts/service";
import { aws } from "../../shared/aws";
import { forgetDataKey } from "../../shared/crypto";
import { loadSession } from "../../shared/store";
import {
  arm,
  type Call,
  disarm,
  type FaultKind,
  hasCondition,
  installFaultInjector,
  recorded,
} from "../support/faults";
import { invokeRoute } from "../support/invoke";
import { testStack } from "../support/stack";

/**
 * Transcript uploads under races and faults. Whatever happens, the session ends in one of the serial
 * outcomes: its record points at the objects of exactly one upload, those objects exist and read back,
 * and the bucket holds nothing else for the session (no orphan, no record pointing at nothing).
 */
const stack = testStack();
const { api } = stack;
let coach: string;
let lead: string;

beforeAll(async () => {
  [coach, lead] = await Promise.all([stack.token("coach1@demo.example"), stack.token("lead@demo.example")]);
  installFaultInjector();
});

const newSession = () =>
  stack.clientWithRecords(coach, "Transcript Race Client", ["coaching", "ai_processing"]);
const transcriptPath = (ids: { clientId: string; sessionId: string }) =>
  `/clients/${ids.clientId}/sessions/${ids.sessionId}/transcript`;

async function objectsOf(ids: { clientId: string; sessionId: string }): Promise<string[]> {
  const out = await aws("s3").send(
    new ListObjectsV2Command({
      Bucket: stack.endpoints.buckets.transcripts,
      Prefix: transcriptPrefix("demo", ids.clientId, ids.sessionId),
    }),
  );
  return (out.Contents ?? []).map((object) => object.Key as string).sort();
}

/** The record's objects are exactly the session's objects, and the transcript reads back as `text`. */
async function expectSerialState(ids: { clientId: string; sessionId: string }, text: string) {
  const transcript = (await loadSession("demo", ids.clientId, ids.sessionId))?.transcript;
  expect(await objectsOf(ids)).toEqual([transcript?.full.key, transcript?.redacted.key].sort());
  const full = await api("GET", transcriptPath(ids), { token: coach });
  expect(full.status, full.text).toBe(200);
  expect(full.json.text).toBe(text);
  const redacted = await api("GET", transcriptPath(ids), { token: lead });
  expect(redacted.status, redacted.text).toBe(200);
  expect(redacted.json.redacted).toBe(true);
}

describe("concurrent uploads", () => {
  it("16 parallel uploads: they serialize (each winner one version after the last, the rest 409), every later read returns the last winner's text, and the bucket holds only its objects", async () => {
    const ids = await newSession();
    const texts = Array.from(
      { length: 16 },
      (_, i) => `Upload ${i}: we talked about sleep, stress and walking (attempt ${i}).`,
    );
    const results = await Promise.all(
      texts.map((text) => api("PUT", transcriptPath(ids), { token: coach, body: { text } })),
    );
    // Uploads that read the session at once conflict; one that starts after another committed replaces
    // it (a loaded machine spreads them out). So: versions 1..k, one upload each, and the rest conflicts.
    const winners = results.flatMap((r, i) =>
      r.status === 200 ? [{ version: r.json.version, text: texts[i] }] : [],
    );
    expect(winners.length).toBeGreaterThan(0);
    expect(winners.map((w) => w.version).sort((a, b) => a - b)).toEqual(winners.map((_, i) => i + 1));
    for (const loser of results.filter((r) => r.status !== 200)) {
      expect(loser.status).toBe(409);
      expect(loser.json.error.code).toBe("VERSION_CONFLICT");
    }
    const winner = winners.find((w) => w.version === winners.length)?.text as string;
    for (let read = 0; read < 3; read++) await expectSerialState(ids, winner);
    expect(await objectsOf(ids)).toHaveLength(2);
  });

  it("a replaced transcript's objects are deleted once the replacement commits", async () => {
    const ids = await newSession();
    const first = await api("PUT", transcriptPath(ids), { token: coach, body: { text: "First version." } });
    expect(first.json.version).toBe(1);
    const before = await objectsOf(ids);
    const second = await api("PUT", transcriptPath(ids), { token: coach, body: { text: "Second version." } });
    expect(second.json.version).toBe(2);
    const after = await objectsOf(ids);
    expect(after).toHaveLength(2);
    expect(after.some((key) => before.includes(key))).toBe(false);
    await expectSerialState(ids, "Second version.");
  });
});

describe("an upload under faults: every AWS call it makes fails once", () => {
  const kindsFor = (call: Call): FaultKind[] => [
    "throttling",
    "server",
    "timeout",
    ...(hasCondition(call) ? (["conditional"] as const) : []),
  ];
  const operation = (call: Call) => `${call.service}:${call.operation}`;

  it("leaves the old state or the new one, never an orphan object or a record pointing at nothing, and answers 200, 409 or 503", async () => {
    const ids = await newSession();
    const upload = async (text: string) => {
      // A cold data key: the upload reads the wrapped key and asks KMS too.
      forgetDataKey({ orgId: "demo", clientId: ids.clientId });
      return invokeRoute("PUT", transcriptPath(ids), { token: coach, body: { text } });
    };
    expect((await upload("Warm-up: the first version.")).status).toBe(200);
    arm();
    expect((await upload("Baseline: a replacement, so the old objects are deleted too.")).status).toBe(200);
    const baseline = recorded().calls;
    disarm();
    expect(baseline.map(operation)).toEqual(
      expect.arrayContaining([
        "comprehendMedical:DetectPHICommand",
        "kms:DecryptCommand",
        "s3:PutObjectCommand",
        "dynamo:TransactWriteItemsCommand",
        "s3:DeleteObjectCommand",
      ]),
    );

    const covered = new Set<string>();
    const outcomes = new Map<number, number>();
    for (const [index, call] of baseline.entries()) {
      for (const kind of kindsFor(call)) {
        // An unfaulted upload first, so caches and chain heads are as they were for the baseline.
        const previous = `Before fault ${index} (${kind}).`;
        expect((await upload(previous)).status).toBe(200);
        const text = `Under fault ${index} (${kind}): we talked about sleep.`;
        arm({ target: { index }, kind });
        const res = await upload(text);
        const { calls, fired } = recorded();
        disarm();
        expect(fired, `${operation(call)} ${kind}`).toBe(true);
        covered.add(operation(calls[index] as Call));
        expect(
          [200, 409, 503],
          `${operation(call)} ${kind}: ${res.status} ${JSON.stringify(res.json)}`,
        ).toContain(res.status);
        outcomes.set(res.status, (outcomes.get(res.status) ?? 0) + 1);
        await expectSerialState(ids, res.status === 200 ? text : previous);
      }
    }
    expect([...covered].sort()).toEqual([...new Set(baseline.map(operation))].sort());
    // Each outcome happens: refused before storing (503), lost the commit (409), won despite a fault (200).
    expect([...outcomes.keys()].sort()).toEqual([200, 409, 503]);
  }, 240_000);
});
