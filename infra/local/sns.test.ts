import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portOf } from "./json-protocol";
import { localAlarmTopicArn, readPublished, startLocalSns } from "./sns";

/** The local alarm topic answers the real SDK v3 SNS client (AWS Query protocol) as SNS does. */
describe("local SNS Publish", () => {
  const dir = mkdtempSync(join(tmpdir(), "coachvault-sns-"));
  let server: Awaited<ReturnType<typeof startLocalSns>>;
  let client: SNSClient;
  beforeAll(async () => {
    server = await startLocalSns(dir, 0, "us-east-1");
    client = new SNSClient({
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${portOf(server)}`,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
  });
  afterAll(() => server.close());

  it("takes a message for the alarm topic, gives its id, and keeps it where tests read it", async () => {
    const out = await client.send(
      new PublishCommand({
        TopicArn: localAlarmTopicArn("us-east-1"),
        Subject: "finding",
        Message: JSON.stringify({ eventId: "e1" }),
        MessageAttributes: { type: { DataType: "String", StringValue: "brute_force" } },
      }),
    );
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(readPublished(dir)).toEqual([
      expect.objectContaining({
        messageId: out.MessageId,
        subject: "finding",
        message: '{"eventId":"e1"}',
        attributes: { type: "brute_force" },
      }),
    ]);
  });

  it("answers an unknown topic as SNS does (NotFound), storing nothing", async () => {
    await expect(
      client.send(new PublishCommand({ TopicArn: "arn:aws:sns:us-east-1:000000000000:other", Message: "x" })),
    ).rejects.toMatchObject({ name: "NotFoundException" });
    expect(readPublished(dir)).toHaveLength(1);
  });
});
