import type { DetectPHICommandOutput, Entity } from "@aws-sdk/client-comprehendmedical";
import { describe, expect, it } from "vitest";
import { ServiceUnavailableError } from "../errors";
import { detectPhiViaComprehend, redact } from "./comprehend";

/**
 * DetectPHI through a fake sender: the fan-out (bounded concurrency, retries on throttling, order) and
 * the offset mapping, without a service. The fake answers as Comprehend Medical does: offsets in code points.
 */
const NAMES = ["Maria Delgado", "Tomas Okafor"];
const codePoints = (text: string) => Array.from(text).length;

function answer(text: string): Pick<DetectPHICommandOutput, "Entities"> {
  const Entities: Entity[] = [];
  for (const name of NAMES) {
    for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + 1)) {
      const begin = codePoints(text.slice(0, at));
      Entities.push({ BeginOffset: begin, EndOffset: begin + codePoints(name), Type: "NAME", Score: 0.99 });
    }
  }
  return { Entities };
}

const throttled = () =>
  new ServiceUnavailableError("SERVICE_UNAVAILABLE", {
    cause: Object.assign(new Error("Rate exceeded"), {
      name: "TooManyRequestsException",
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
    }),
  });

const tick = () => new Promise((resolve) => setImmediate(resolve));
const noWait = async () => {};
const LATER = Date.now() + 3_600_000;

/** ~20 chunks, each with emoji before a name, so every chunk's code points and UTF-16 units differ. */
const LONG = Array.from(
  { length: 700 },
  (_, i) =>
    `${"🙂".repeat(i % 4)} Line ${i}: ${NAMES[i % 2]} said the plan works. 𠀋 ${"filler ".repeat(20)}`,
).join("\n");

describe("DetectPHI over many chunks", () => {
  it("maps code-point offsets to UTF-16 per chunk: an emoji before a name leaks no part of it", async () => {
    const text = `😀😀😀 Hi ${NAMES[0]}! 👍🏽 ${NAMES[1]} joins. ${"🙂".repeat(30)} Bye ${NAMES[0]}.`;
    const entities = await detectPhiViaComprehend(text, {
      deadline: LATER,
      concurrency: 2,
      send: async (chunk) => answer(chunk),
    });
    const redacted = redact(text, entities);
    expect(redacted).toBe(`😀😀😀 Hi [NAME]! 👍🏽 [NAME] joins. ${"🙂".repeat(30)} Bye [NAME].`);
    const long = redact(
      LONG,
      await detectPhiViaComprehend(LONG, { deadline: LATER, concurrency: 4, send: async (c) => answer(c) }),
    );
    for (const name of NAMES) for (const part of name.split(" ")) expect(long).not.toContain(part);
    expect(long.match(/\[NAME\]/g)).toHaveLength(700);
  });

  it("never has more than `concurrency` calls in flight, and keeps results in the chunks' order", async () => {
    for (const concurrency of [1, 3, 4]) {
      let inFlight = 0;
      let most = 0;
      let calls = 0;
      const entities = await detectPhiViaComprehend(LONG, {
        deadline: LATER,
        concurrency,
        send: async (chunk) => {
          calls++;
          inFlight++;
          most = Math.max(most, inFlight);
          // Later calls finish first: answers arrive out of order.
          for (let i = 0; i < 40 - (calls % 40); i++) await tick();
          inFlight--;
          return answer(chunk);
        },
      });
      expect(calls).toBeGreaterThan(concurrency);
      expect(most).toBe(concurrency);
      const masked = entities.map((e) => LONG.slice(e.begin, e.end));
      expect(new Set(masked)).toEqual(new Set(NAMES));
      expect(masked).toHaveLength(700);
    }
  });

  it("retries a throttled call with backoff and jitter, then succeeds", async () => {
    const failures = new Map<string, number>();
    const waits: number[] = [];
    const entities = await detectPhiViaComprehend(LONG, {
      deadline: LATER,
      concurrency: 1,
      random: () => 0.5,
      sleep: async (ms) => {
        waits.push(ms);
      },
      send: async (chunk) => {
        const failed = failures.get(chunk) ?? 0;
        if (failed < 3) {
          failures.set(chunk, failed + 1);
          throw throttled();
        }
        return answer(chunk);
      },
    });
    expect(entities).toHaveLength(700);
    // Three waits per chunk, growing exponentially (half of 100, 200, 400 ms with random() = 0.5).
    expect(failures.size).toBeGreaterThan(1);
    expect(waits).toEqual(Array.from({ length: failures.size }, () => [50, 100, 200]).flat());
  });

  it("gives up on persistent throttling with a clean 503 (ServiceUnavailableError), after a bounded number of tries", async () => {
    let calls = 0;
    const failure = detectPhiViaComprehend("Hi Maria Delgado.", {
      deadline: LATER,
      concurrency: 4,
      sleep: noWait,
      send: async () => {
        calls++;
        throw throttled();
      },
    });
    await expect(failure).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(failure).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE", kind: "unavailable" });
    expect(calls).toBe(8);
  });

  it("starts no call or retry after the deadline", async () => {
    let clock = 0;
    const started: number[] = [];
    const failure = detectPhiViaComprehend(LONG, {
      deadline: 5_000,
      concurrency: 4,
      maxAttempts: 1_000,
      now: () => clock,
      random: () => 1,
      sleep: async (ms) => {
        clock += ms;
      },
      send: async () => {
        started.push(clock);
        clock += 300;
        throw throttled();
      },
    });
    await expect(failure).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(Math.max(...started)).toBeLessThan(5_000);
  });

  it("abandons a call still running at the deadline with a clean 503, so the route can still answer", async () => {
    const hanging = (_text: string, signal: AbortSignal) =>
      new Promise<Pick<DetectPHICommandOutput, "Entities">>((_resolve, reject) =>
        signal.addEventListener("abort", () =>
          reject(Object.assign(new Error("aborted"), { name: "AbortError" })),
        ),
      );
    const error = await detectPhiViaComprehend("Hello Jane Doe", {
      deadline: Date.now() + 50,
      concurrency: 1,
      send: hanging,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
  });

  it("does not retry what throttling did not cause", async () => {
    let calls = 0;
    const refused = Object.assign(new Error("bad text"), { name: "InvalidRequestException" });
    await expect(
      detectPhiViaComprehend("Hi Maria Delgado.", {
        deadline: LATER,
        concurrency: 2,
        sleep: noWait,
        send: async () => {
          calls++;
          throw refused;
        },
      }),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);
  });
});
