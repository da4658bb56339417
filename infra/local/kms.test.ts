import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portOf } from "./json-protocol";
import { LOCAL_KEY_ALIASES, startLocalKms } from "./kms";

/** The local KMS answers the compliance checks' key questions (DescribeKey, rotation) as KMS does. */
describe("local KMS key metadata and rotation", () => {
  const dir = mkdtempSync(join(tmpdir(), "coachvault-kms-"));
  let server: Awaited<ReturnType<typeof startLocalKms>>["server"];
  let client: KMSClient;
  const start = async () => {
    server = (await startLocalKms(dir, 0, "us-east-1")).server;
    client = new KMSClient({
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${portOf(server)}`,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
  };
  beforeAll(start);
  afterAll(() => server.close());

  it("describes the stage's keys: the data key symmetric, the signing key P-256", async () => {
    const data = await client.send(new DescribeKeyCommand({ KeyId: LOCAL_KEY_ALIASES.data }));
    expect(data.KeyMetadata).toMatchObject({
      KeySpec: "SYMMETRIC_DEFAULT",
      KeyUsage: "ENCRYPT_DECRYPT",
      KeyState: "Enabled",
      KeyManager: "CUSTOMER",
    });
    expect(data.KeyMetadata?.Arn).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\/[0-9a-f-]{36}$/);
    const signing = await client.send(new DescribeKeyCommand({ KeyId: LOCAL_KEY_ALIASES.auditSigning }));
    expect(signing.KeyMetadata).toMatchObject({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
  });

  it("makes the stage's data key rotating, as the CDK app does, and a created key not, as KMS does", async () => {
    const data = await client.send(new GetKeyRotationStatusCommand({ KeyId: LOCAL_KEY_ALIASES.data }));
    expect(data).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 365 });
    const created = await client.send(new CreateKeyCommand({}));
    const status = await client.send(new GetKeyRotationStatusCommand({ KeyId: created.KeyMetadata?.Arn }));
    expect(status.KeyRotationEnabled).toBe(false);
    expect(status.RotationPeriodInDays).toBeUndefined();
  });

  it("enables and disables rotation, keeps the setting across a restart, and bounds the period", async () => {
    const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
    const KeyId = KeyMetadata?.KeyId;
    await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 180 }));
    expect(await client.send(new GetKeyRotationStatusCommand({ KeyId }))).toMatchObject({
      KeyRotationEnabled: true,
      RotationPeriodInDays: 180,
    });
    await expect(
      client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 30 })),
    ).rejects.toMatchObject({ name: "ValidationException" });
    await client.send(new DisableKeyRotationCommand({ KeyId: LOCAL_KEY_ALIASES.data }));
    server.close();
    await start();
    // A rotation the test turned off stays off: the bootstrap only sets keys whose rotation was never set.
    const data = await client.send(new GetKeyRotationStatusCommand({ KeyId: LOCAL_KEY_ALIASES.data }));
    expect(data.KeyRotationEnabled).toBe(false);
    expect((await client.send(new GetKeyRotationStatusCommand({ KeyId }))).RotationPeriodInDays).toBe(180);
  });

  it("refuses rotation on the asymmetric signing key, as KMS does", async () => {
    for (const command of [
      new GetKeyRotationStatusCommand({ KeyId: LOCAL_KEY_ALIASES.auditSigning }),
      new EnableKeyRotationCommand({ KeyId: LOCAL_KEY_ALIASES.auditSigning }),
    ])
      await expect(client.send(command as never)).rejects.toMatchObject({
        name: "UnsupportedOperationException",
      });
    await expect(client.send(new DescribeKeyCommand({ KeyId: "alias/none" }))).rejects.toMatchObject({
      name: "NotFoundException",
    });
  });
});
