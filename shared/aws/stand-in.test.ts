import { describe, expect, it } from "vitest";
import { parseConfig } from "../config";
import { standInOf } from "./index";

const base = {
  TABLE_RECORDS: "rec",
  TABLE_DIRECTORY: "dir",
  TABLE_KEYS: "key",
  TABLE_AUDIT: "aud",
  TABLE_WITNESS: "wit",
  TABLE_SETTINGS: "set",
  TABLE_LIMITS: "lim",
  TABLE_IDEMPOTENCY: "idm",
  TABLE_SECURITY: "sec",
  BUCKET_TRANSCRIPTS: "tra",
  KMS_DATA_KEY_ID: "k",
  USER_POOL_ID: "p",
  USER_POOL_CLIENT_ID: "c",
};

/** Where a service is answered is derived from the endpoints alone: no per-service flag. */
describe("standInOf", () => {
  it("is the cloud when no endpoint is set", () => {
    const config = parseConfig(base);
    expect(standInOf("cloudTrail", config)).toBe("cloud");
    expect(standInOf("kms", config)).toBe("cloud");
  });

  it("locally, a service with an endpoint has a stand-in and one without has none", () => {
    const config = parseConfig({
      ...base,
      ENDPOINT_KMS: "http://127.0.0.1:1",
      ENDPOINT_DYNAMODB: "http://127.0.0.1:2",
    });
    expect(standInOf("kms", config)).toBe("local");
    expect(standInOf("dynamoRaw", config)).toBe("local");
    expect(standInOf("dynamoStreams", config)).toBe("local");
    expect(standInOf("wafv2", config)).toBe("none");
    expect(standInOf("backup", config)).toBe("none");
    expect(standInOf("s3", config)).toBe("none");
  });
});
