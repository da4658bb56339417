import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort, isPortFree } from "./processes";
import { freePorts, startLocalStack } from "./stack";

describe("local stack start-up", () => {
  it("refuses to start, naming the port, when one of its ports is taken (and starts nothing)", async () => {
    const server = createServer();
    const taken = await freePort();
    await new Promise<void>((resolve) => server.listen(taken, "127.0.0.1", resolve));
    try {
      const ports = { ...(await freePorts()), api: taken };
      await expect(startLocalStack({ dir: "/tmp/coachvault-port-test", fresh: true, ports })).rejects.toThrow(
        `port ${taken} (api) is in use`,
      );
      expect(await isPortFree(ports.dynamodb)).toBe(true);
    } finally {
      server.close();
    }
  });
});
