import { Readable } from "node:stream";
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { HttpResponse } from "@smithy/core/protocols";
import { describe, expect, it } from "vitest";
import { ServiceUnavailableError } from "../errors";
import { classifyErrors } from "./errors";

/** A DynamoDB client whose transport answers every request with one canned HTTP response. */
function clientAnswering(status: number, type: string) {
  let calls = 0;
  const client = new DynamoDBClient({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:1",
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
    maxAttempts: 2,
    requestHandler: {
      handle: async () => {
        calls++;
        return {
          response: new HttpResponse({
            statusCode: status,
            headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-errortype": type },
            body: Readable.from([Buffer.from(JSON.stringify({ __type: type, message: "no" }))]),
          }),
        };
      },
    },
  });
  return { client: classifyErrors(client), calls: () => calls };
}

const get = new GetItemCommand({ TableName: "tbl", Key: { pk: { S: "a" } } });

describe("AWS error classification", () => {
  it.each([
    [400, "ThrottlingException"],
    [400, "ProvisionedThroughputExceededException"],
    [500, "InternalServerError"],
    [503, "ServiceUnavailable"],
  ])(
    "a %i %s left after the SDK's retries becomes a retryable ServiceUnavailableError with its cause",
    async (status, type) => {
      const { client, calls } = clientAnswering(status, type);
      const error = await client.send(get).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect((error as ServiceUnavailableError).kind).toBe("unavailable");
      expect((error as ServiceUnavailableError).retryAfterSeconds).toBe(1);
      expect(((error as Error).cause as Error).name).toBe(type);
      // The SDK retried before giving up: classification sits outside its retries.
      expect(calls()).toBe(2);
    },
  );

  it("passes a failed condition through unchanged, for the code that expects it", async () => {
    const { client, calls } = clientAnswering(400, "ConditionalCheckFailedException");
    const error = await client.send(get).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect(calls()).toBe(1);
  });
});

describe("bounded waits", () => {
  it("a service that accepts but never answers fails fast as a retryable 503, not at the function's timeout", async () => {
    const { createServer } = await import("node:net");
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    const { parseConfig } = await import("../config");
    const { DynamoDBClient: Client } = await import("@aws-sdk/client-dynamodb");
    const config = parseConfig({
      TABLE_RECORDS: "records",
      TABLE_DIRECTORY: "directory",
      TABLE_KEYS: "keys",
      TABLE_AUDIT: "audit",
      TABLE_WITNESS: "witness",
      TABLE_SETTINGS: "settings",
      TABLE_LIMITS: "limits",
      TABLE_IDEMPOTENCY: "idempotency",
      TABLE_SECURITY: "security",
      BUCKET_TRANSCRIPTS: "transcripts",
      KMS_DATA_KEY_ID: "key",
      USER_POOL_ID: "pool",
      USER_POOL_CLIENT_ID: "client",
      AWS_REQUEST_TIMEOUT_MS: "150",
    });
    const { clientOptions } = await import(".");
    const client = classifyErrors(new Client(clientOptions(config, `http://127.0.0.1:${port}`)));
    try {
      const error = await client.send(get).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(((error as Error).cause as Error).name).toBe("TimeoutError");
    } finally {
      silent.close();
    }
  });
});
