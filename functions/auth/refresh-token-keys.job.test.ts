import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IntegrityError, ServiceUnavailableError } from "../../shared/errors";
import { fetchTokenKeys } from "./refresh-token-keys.job";

const KEY = {
  kid: "k1",
  kty: "RSA",
  alg: "RS256",
  use: "sig",
  n: "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri",
  e: "AQAB",
};
const ANSWERS: Record<string, { status: number; body: string }> = {
  "/good": { status: 200, body: JSON.stringify({ keys: [KEY] }) },
  "/down": { status: 503, body: "unavailable" },
  "/garbage": { status: 200, body: "<html>not json</html>" },
  "/empty": { status: 200, body: JSON.stringify({ keys: [] }) },
  "/symmetric": {
    status: 200,
    body: JSON.stringify({ keys: [{ kid: "k1", kty: "oct", alg: "HS256", k: "c2VjcmV0" }] }),
  },
  "/huge": { status: 200, body: JSON.stringify({ keys: [KEY], padding: "x".repeat(100_000) }) },
};

let base: string;
const server = createServer((req, res) => {
  const answer = ANSWERS[req.url ?? ""] ?? { status: 404, body: "" };
  res.writeHead(answer.status).end(answer.body);
});
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe("fetching the pool's JWKS", () => {
  it("returns the RSA signing keys Cognito publishes", async () => {
    await expect(fetchTokenKeys(`${base}/good`, 2000)).resolves.toEqual({ keys: [KEY] });
  });

  it("an unreachable or failing JWKS is retryable (the stored set stays as it was)", async () => {
    await expect(fetchTokenKeys(`${base}/down`, 2000)).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(fetchTokenKeys("http://127.0.0.1:9/closed", 2000)).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
  });

  it("anything but a non-empty set of RSA RS256 keys is refused, never stored", async () => {
    for (const path of ["/garbage", "/empty", "/symmetric", "/huge"])
      await expect(fetchTokenKeys(`${base}${path}`, 2000), path).rejects.toBeInstanceOf(IntegrityError);
  });
});
