import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { aggregate, decode, MAX_SIGNALS_PER_BATCH, observationOf } from "./log-signals.job";

const T = Date.parse("2026-11-24T12:00:10Z");
const access = (status: string, ip = "203.0.113.7") =>
  JSON.stringify({ requestId: "r", ip, httpMethod: "GET", resourcePath: "/clients/{clientId}", status });
const SUB = "6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f";
const authEvent = (eventResponse: string, ip = "198.51.100.4", userSub: string | null = SUB) =>
  JSON.stringify({
    logLevel: "INFO",
    eventSource: "USER_AUTH_EVENTS",
    message: {
      eventType: "SignIn",
      eventResponse,
      userName: "someone@demo.example",
      ...(userSub && { userSub }),
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
      userId: SUB,
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
        userId: SUB,
        count: 4,
        requestId: "log-c0",
      },
    ]);
    expect(JSON.stringify(signals)).not.toContain("demo.example");
  });

  it("keeps a failed sign-in's user as its Cognito sub (no org: a platform signal), never a username or email", () => {
    const unknown = observationOf(authEvent("Fail", "198.51.100.4", null), T, "u1");
    expect(unknown).not.toHaveProperty("userId");
    const spoofed = observationOf(authEvent("Fail", "198.51.100.4", "someone@demo.example"), T, "u2");
    expect(spoofed).toBeDefined();
    expect(spoofed).not.toHaveProperty("userId");
    const other = "0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e";
    const signals = aggregate(
      [
        observationOf(authEvent("Fail", "198.51.100.4"), T, "s1"),
        observationOf(authEvent("Fail", "198.51.100.4", other), T, "s2"),
      ].flatMap((o) => (o ? [o] : [])),
    );
    expect(signals.map((signal) => [signal.userId, signal.count, signal.orgId])).toEqual([
      [SUB, 1, undefined],
      [other, 1, undefined],
    ]);
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
