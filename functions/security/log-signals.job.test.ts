import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { aggregate, decode, MAX_SIGNALS_PER_BATCH, observationOf } from "./log-signals.job";

const T = Date.parse("2026-11-24T12:00:10Z");
const access = (status: string, ip = "203.0.113.7") =>
  JSON.stringify({ requestId: "r", ip, httpMethod: "GET", resourcePath: "/clients/{clientId}", status });
const authEvent = (eventResponse: string, ip = "198.51.100.4") =>
  JSON.stringify({
    logLevel: "INFO",
    eventSource: "USER_AUTH_EVENTS",
    message: {
      eventType: "SignIn",
      eventResponse,
      userName: "someone@demo.example",
      eventContextData: { ipAddress: ip, city: "Springfield" },
    },
  });

describe("signals from the API access log and the user pool's auth events", () => {
  it("keeps the access log's 401s and the failed sign-ins, by IP (and route template), nothing else", () => {
    expect(observationOf(access("401"), T, "1")).toEqual({
      kind: "unauthenticated",
      ip: "203.0.113.7",
      route: "clients/get",
      at: T,
      id: "1",
    });
    expect(observationOf(access("200"), T, "2")).toBeUndefined();
    expect(observationOf(access("403"), T, "2")).toBeUndefined();
    expect(observationOf(authEvent("Fail"), T, "3")).toEqual({
      kind: "sign_in_failed",
      ip: "198.51.100.4",
      at: T,
      id: "3",
    });
    expect(observationOf(authEvent("Pass"), T, "4")).toBeUndefined();
    expect(observationOf("not json", T, "5")).toBeUndefined();
    expect(observationOf(access("401", "not-an-ip"), T, "6")).toBeUndefined();
  });

  it("aggregates a batch per kind, IP, route and minute, with stable ids and no username or email", () => {
    const observations = [
      ...Array.from({ length: 30 }, (_, n) => observationOf(access("401"), T + n, `a${n}`)),
      observationOf(access("401"), T + 60_000, "b0"),
      ...Array.from({ length: 4 }, (_, n) => observationOf(authEvent("Fail"), T, `c${n}`)),
    ].flatMap((o) => (o ? [o] : []));
    const signals = aggregate(observations);
    expect(signals).toEqual([
      {
        kind: "unauthenticated",
        at: "2026-11-24T12:00:00.000Z",
        ip: "203.0.113.7",
        route: "clients/get",
        count: 30,
        requestId: "log-a0",
      },
      {
        kind: "unauthenticated",
        at: "2026-11-24T12:01:00.000Z",
        ip: "203.0.113.7",
        route: "clients/get",
        count: 1,
        requestId: "log-b0",
      },
      {
        kind: "sign_in_failed",
        at: "2026-11-24T12:00:00.000Z",
        ip: "198.51.100.4",
        count: 4,
        requestId: "log-c0",
      },
    ]);
    expect(JSON.stringify(signals)).not.toContain("demo.example");
  });

  it("bounds a batch of many IPs: the rest share one overflow signal", () => {
    const observations = Array.from({ length: 1000 }, (_, n) =>
      observationOf(access("401", `10.1.${n >> 8}.${n & 255}`), T, `x${n}`),
    ).flatMap((o) => (o ? [o] : []));
    const signals = aggregate(observations);
    expect(signals).toHaveLength(MAX_SIGNALS_PER_BATCH + 1);
    expect(signals.at(-1)).toMatchObject({ reason: "overflow", count: 1000 - MAX_SIGNALS_PER_BATCH });
    expect(signals.at(-1)).not.toHaveProperty("ip");
  });

  it("reads CloudWatch Logs' gzipped, base64 subscription payload", () => {
    const payload = {
      messageType: "DATA_MESSAGE",
      logEvents: [{ id: "1", timestamp: T, message: access("401") }],
    };
    const data = gzipSync(Buffer.from(JSON.stringify(payload))).toString("base64");
    expect(decode({ awslogs: { data } })).toEqual(payload);
  });
});
