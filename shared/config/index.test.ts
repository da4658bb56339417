import { describe, expect, it } from "vitest";
import { LIST_PAGE_BOUND, parseConfig, TRANSACTION_MAX_ITEMS } from "./index";

const REQUIRED = {
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
  KMS_DATA_KEY_ID: "alias/data",
  USER_POOL_ID: "pool",
  USER_POOL_CLIENT_ID: "client",
};

describe("settings", () => {
  it("bound LIST_PAGE_MAX so a list's audit transaction (entry + one pointer per client) fits DynamoDB's 100 items", () => {
    expect(LIST_PAGE_BOUND + 1).toBe(TRANSACTION_MAX_ITEMS);
    expect(parseConfig({ ...REQUIRED }).LIST_PAGE_MAX).toBe(50);
    expect(parseConfig({ ...REQUIRED, LIST_PAGE_MAX: String(LIST_PAGE_BOUND) }).LIST_PAGE_MAX).toBe(99);
    for (const above of [LIST_PAGE_BOUND + 1, 1000])
      expect(() => parseConfig({ ...REQUIRED, LIST_PAGE_MAX: String(above) })).toThrow(/LIST_PAGE_MAX/);
  });

  it("name the settings that are wrong, never their values", () => {
    expect(() => parseConfig({ ...REQUIRED, PHI_DETECT_CONCURRENCY: "secret-value-0" })).toThrow(
      /^Invalid or missing settings: PHI_DETECT_CONCURRENCY$/,
    );
  });
});
