import {
  CreateUserPoolCommand,
  DeleteUserPoolCommand,
  type PasswordPolicyType,
} from "@aws-sdk/client-cognito-identity-provider";
import { CreateKeyCommand, DisableKeyRotationCommand, EnableKeyRotationCommand } from "@aws-sdk/client-kms";
import { afterEach, describe, expect, it } from "vitest";
import { aws } from "../../shared/aws";
import { evaluateChecks } from "../../shared/compliance";
import type { CheckDefinition } from "../../shared/compliance/check";
import { infrastructureChecks } from "../../shared/compliance/checks/infrastructure";
import { organizationalChecks } from "../../shared/compliance/checks/organizational";
import { CheckResultSchema } from "../../shared/compliance/report";
import { resetConfig } from "../../shared/config";
import { BUILT_IN_SETTINGS, type TenantSettings } from "../../shared/settings";
import { testStack } from "../support/stack";

/**
 * The infrastructure and organizational checks against the running local stack: each is a pass with evidence
 * (its stand-in models the property) or says why it could not be evaluated; and a local resource weakened on
 * purpose makes its check fail.
 */
testStack();

const DAY_MS = 24 * 3600 * 1000;
/** An org (with no settings document of its own) that recorded its BAA a month ago. */
const BAA = {
  acceptedAt: new Date(Date.now() - 30 * DAY_MS).toISOString(),
  acceptedBy: "admin-1",
  version: "2026-10",
};
const context = (settings: TenantSettings = { ...BUILT_IN_SETTINGS, baa: BAA }) => ({
  orgId: "compliance-infra",
  period: { from: new Date(Date.now() - DAY_MS).toISOString(), to: new Date().toISOString() },
  now: new Date(),
  settings,
  memo: <T>(_key: string, load: () => Promise<T>) => load(),
});

const evaluate = async (checks: readonly CheckDefinition[], settings?: TenantSettings) => {
  const { results } = await evaluateChecks(checks, context(settings));
  for (const result of results)
    expect(CheckResultSchema.safeParse(result).error?.issues, result.id).toBeUndefined();
  return Object.fromEntries(results.map((result) => [result.id, result]));
};
const only = (id: string) => infrastructureChecks.filter((check) => check.id === id);

/** Settings a test points elsewhere (at a weakened resource), put back after it. */
const overridden = new Map<string, string | undefined>();
const override = (name: string, value: string) => {
  if (!overridden.has(name)) overridden.set(name, process.env[name]);
  process.env[name] = value;
  resetConfig();
};
afterEach(() => {
  for (const [name, value] of overridden) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  overridden.clear();
  resetConfig();
});

describe("infrastructure checks on the local stack", () => {
  it("each passes with evidence or is not_evaluated / not_applicable with its reason", async () => {
    const results = await evaluate([...infrastructureChecks, ...organizationalChecks]);
    for (const result of Object.values(results)) {
      expect(
        ["pass", "not_evaluated", "not_applicable"],
        `${result.id}: ${JSON.stringify(result)}`,
      ).toContain(result.status);
      if (result.status === "pass") expect(Object.keys(result.evidence).length, result.id).toBeGreaterThan(0);
      else expect(result.reason, result.id).toBeTruthy();
    }
    // What the stand-ins really model passes on their answers.
    expect(results["infra.kms-key-rotation"]).toMatchObject({
      status: "pass",
      evidence: {
        checked: ["data"],
        failing: [],
        "data.rotation": true,
        "auditSigningKey.spec": "ECC_NIST_P256",
      },
    });
    expect(results["infra.cognito-mfa-required"]).toMatchObject({
      status: "pass",
      evidence: { mfaConfiguration: "ON" },
    });
    expect(results["infra.cognito-password-policy"]).toMatchObject({
      status: "pass",
      evidence: { minimumLength: 12, lowercase: true, uppercase: true, digits: true, symbols: true },
    });
    // Services without a stand-in, and stand-ins that do not model the property, say so.
    expect(results["infra.cloudtrail-logging"]?.reason).toBe("no local stand-in for CloudTrail");
    expect(results["infra.waf-api"]?.reason).toBe("no local stand-in for WAF");
    expect(results["infra.logs-retention"]?.reason).toBe("no local stand-in for CloudWatch Logs");
    expect(results["infra.backup-last-job-succeeded"]?.reason).toBe("no local stand-in for AWS Backup");
    expect(results["infra.s3-object-lock"]?.reason).toMatch(/^s3rver/);
    expect(results["infra.dynamodb-customer-key"]?.reason).toMatch(/^DynamoDB Local/);
    expect(results["infra.cognito-threat-protection"]?.reason).toMatch(/^cognito-local/);
    expect(results["physical.facility-access"]?.status).toBe("not_applicable");
    expect(results["documentation.reviewed-within-year"]).toMatchObject({
      status: "pass",
      evidence: { settingsSource: "built-in", baaAcceptedAt: BAA.acceptedAt, daysSinceReview: 30 },
    });
  });

  it("an org that never changed its settings nor recorded a BAA fails the yearly review check", async () => {
    const review = organizationalChecks.filter((check) => check.id === "documentation.reviewed-within-year");
    const result = (await evaluate(review, BUILT_IN_SETTINGS))["documentation.reviewed-within-year"];
    expect(result).toMatchObject({
      status: "fail",
      evidence: { settingsSource: "built-in", settingsVersion: 0 },
    });
  });

  it("a KMS key whose rotation was turned off fails the rotation check, naming it", async () => {
    const kms = aws("kms");
    const created = await kms.send(new CreateKeyCommand({ Description: "weakened for the compliance test" }));
    const arn = created.KeyMetadata?.Arn as string;
    await kms.send(new EnableKeyRotationCommand({ KeyId: arn }));
    await kms.send(new DisableKeyRotationCommand({ KeyId: arn }));
    override("INSPECT_KMS_STORAGE_KEY_ID", arn);
    const result = (await evaluate(only("infra.kms-key-rotation")))["infra.kms-key-rotation"];
    expect(result).toMatchObject({
      status: "fail",
      evidence: {
        checked: ["data", "storage"],
        failing: ["storage"],
        "storage.arn": arn,
        "storage.rotation": false,
      },
    });
    expect(result?.remediation).toContain("EnableKeyRotation");
  });

  it("a user pool with MFA off and a weak password policy fails both checks", async () => {
    const cognito = aws("cognito");
    const weak: PasswordPolicyType = {
      MinimumLength: 8,
      RequireLowercase: true,
      RequireUppercase: false,
      RequireNumbers: true,
      RequireSymbols: false,
    };
    const pool = await cognito.send(
      new CreateUserPoolCommand({
        PoolName: "compliance-weakened",
        MfaConfiguration: "OFF",
        Policies: { PasswordPolicy: weak },
      }),
    );
    const poolId = pool.UserPool?.Id as string;
    try {
      override("USER_POOL_ID", poolId);
      const results = await evaluate(
        infrastructureChecks.filter((check) => check.id.startsWith("infra.cognito-")),
      );
      expect(results["infra.cognito-mfa-required"]).toMatchObject({
        status: "fail",
        evidence: { userPoolId: poolId, mfaConfiguration: "OFF" },
      });
      expect(results["infra.cognito-password-policy"]).toMatchObject({
        status: "fail",
        evidence: { minimumLength: 8, uppercase: false, symbols: false },
      });
    } finally {
      await cognito.send(new DeleteUserPoolCommand({ UserPoolId: poolId }));
    }
  });
});
