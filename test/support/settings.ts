import { DeleteCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { orgSettingsId, SETTINGS_VALUE_ATTRIBUTE } from "../../shared/settings";

/**
 * Org settings documents written straight into the settings table, as `PATCH /settings` stores them. The
 * test stack reads settings with a max age of 1 s (`SETTINGS_MAX_AGE_SECONDS` in global-setup), so a
 * document applies to the stack's functions after `settingsApply()`.
 */
export const TEST_STACK_SETTINGS_MAX_AGE_SECONDS = 1;

/**
 * What the suite's own orgs (`demo`, `smoke`) run with: the fuzzing, matrix and reliability files fire
 * thousands of requests from a few users, and deny many on purpose. The limiter and blocking still run on
 * every request (this is configuration, not a switch); only their thresholds are out of those files' way.
 * The limits tests set their own documents for the orgs they test.
 */
export const SUITE_SETTINGS = {
  rateLimits: {
    // An hour's window: the quotas are bursts the suite never spends, the rates within the schema's bounds.
    windowSeconds: 3600,
    perRole: { coach: 100_000, coach_lead: 100_000, admin: 100_000, compliance_officer: 100_000 },
    perOrg: 1_000_000,
  },
  blocking: { rateLimitedRequests: 100_000, deniedRequests: 10_000 },
};
export const SUITE_ORGS = ["demo", "smoke"] as const;

let versions = 0;
export async function putOrgSettings(orgId: string, settings: unknown): Promise<void> {
  await aws("dynamo").send(
    new PutCommand({
      TableName: getConfig().TABLE_SETTINGS,
      Item: {
        id: orgSettingsId(orgId),
        [SETTINGS_VALUE_ATTRIBUTE]: JSON.stringify(settings),
        version: ++versions,
      },
    }),
  );
}

export async function removeOrgSettings(orgId: string): Promise<void> {
  await aws("dynamo").send(
    new DeleteCommand({ TableName: getConfig().TABLE_SETTINGS, Key: { id: orgSettingsId(orgId) } }),
  );
}

/** Waits until every function of the test stack reads settings afresh. */
export const settingsApply = () =>
  new Promise((resolve) => setTimeout(resolve, TEST_STACK_SETTINGS_MAX_AGE_SECONDS * 1000 + 200));

/**
 * Forgets an org's limiter state (buckets, strikes, blocks): for a file that was refused many times on
 * purpose under relaxed settings, so its strikes, still inside the blocking window, do not block the org's
 * users in the next file once the default thresholds apply again.
 */
export async function clearLimiterState(orgId: string): Promise<void> {
  const table = getConfig().TABLE_LIMITS;
  const { Items = [] } = await aws("dynamo").send(
    new ScanCommand({
      TableName: table,
      FilterExpression: "begins_with(pk, :org)",
      ExpressionAttributeValues: { ":org": `ORG#${orgId}` },
    }),
  );
  for (const item of Items)
    await aws("dynamo").send(new DeleteCommand({ TableName: table, Key: { pk: item.pk } }));
}
