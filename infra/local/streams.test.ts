import type { _Record as StreamRecord } from "@aws-sdk/client-dynamodb-streams";
import { describe, expect, it } from "vitest";
import { toLambdaRecord } from "./streams";

describe("local stream records", () => {
  it("reach the handler in the shape Lambda delivers: epoch seconds, the stream's ARN, lower-case user identity", () => {
    const record: StreamRecord = {
      eventID: "e1",
      eventName: "REMOVE",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "ddblocal",
      dynamodb: {
        ApproximateCreationDateTime: new Date("2026-01-01T00:00:05.000Z"),
        Keys: { pk: { S: "ORG#o#SHARD#0" }, seq: { N: "3" } },
        SequenceNumber: "000000000000000000007",
        SizeBytes: 40,
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
      userIdentity: { Type: "Service", PrincipalId: "dynamodb.amazonaws.com" },
    };
    expect(toLambdaRecord(record, "arn:stream")).toEqual({
      eventID: "e1",
      eventName: "REMOVE",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "ddblocal",
      eventSourceARN: "arn:stream",
      userIdentity: { type: "Service", principalId: "dynamodb.amazonaws.com" },
      dynamodb: {
        ApproximateCreationDateTime: 1767225605,
        Keys: { pk: { S: "ORG#o#SHARD#0" }, seq: { N: "3" } },
        SequenceNumber: "000000000000000000007",
        SizeBytes: 40,
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
    });
  });
});
