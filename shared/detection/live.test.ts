import type { DynamoDBRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { detectionBatch } from "./live";
import { auditObservation } from "./observations";

describe("detectionBatch", () => {
  it("passes over an item whose attributes cannot be read, instead of failing the record and the shard behind it", async () => {
    const planted: DynamoDBRecord = {
      eventID: "1",
      eventName: "INSERT",
      dynamodb: { NewImage: { pk: { S: "ORG#x#CHAIN#0" }, seq: { N: "12345678901234567890.5" } } },
    };
    await expect(detectionBatch(auditObservation).record(planted)).resolves.toBeUndefined();
  });
});
