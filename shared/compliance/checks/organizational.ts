import { DOCUMENTATION_RETENTION_DAYS } from "../../config";
import { settingsDocument } from "../../settings";
import { type CheckDefinition, failed, notApplicable, notEvaluated, passIf } from "../check";
import { objectLockOf } from "./infrastructure";
import { everySubject, inspection, subjectsOf } from "./inspect";

/**
 * The Security Rule's standards the product cannot control (most of §164.310: AWS's side of the shared
 * responsibility model, under the AWS Business Associate Addendum) and the organizational ones it can speak
 * to: disposal, documentation retention and its updates. A `not_applicable` says precisely whose control it is.
 */

/** Why the physical safeguards of AWS's facilities and hardware are not the product's (nor the tenant's). */
const AWS_PHYSICAL =
  "CoachVault runs only on AWS managed services (Lambda, DynamoDB, S3, KMS, Cognito); it owns no facility, " +
  "server or storage medium. Under the shared responsibility model and the AWS Business Associate Addendum, " +
  "AWS implements this safeguard for its data centers and hardware (attested in its SOC 2 Type II and " +
  "ISO 27001 reports, available in AWS Artifact).";

/** Why the tenant's own endpoints are the covered entity's: the product never manages a workstation. */
const TENANT_WORKSTATIONS =
  "The product has no workstations: its users reach it from devices their own organization manages. The " +
  "covered entity's workstation policies apply to those devices; the product's part (sessions expire, MFA on " +
  "every sign-in, nothing sensitive cached in responses) is covered by the access control checks.";

const notApplicableCheck = (
  check: Omit<CheckDefinition, "layer" | "evaluate" | "severity" | "weight">,
  justification: string,
): CheckDefinition => ({
  ...check,
  layer: "organizational",
  severity: "low",
  weight: 1,
  evaluate: async () => notApplicable(justification),
});

export const organizationalChecks: readonly CheckDefinition[] = [
  notApplicableCheck(
    {
      id: "physical.facility-access",
      title:
        "Facility access controls (contingency operations, facility security plan, access validation, maintenance records)",
      hipaa: "164.310(a)(1)",
      remediation: "None for the product: review AWS's SOC 2 report in AWS Artifact yearly.",
    },
    AWS_PHYSICAL,
  ),
  notApplicableCheck(
    {
      id: "physical.workstation-use",
      title: "Workstation use",
      hipaa: "164.310(b)",
      remediation:
        "None for the product: the covered entity's workstation use policy applies to its users' devices.",
    },
    TENANT_WORKSTATIONS,
  ),
  notApplicableCheck(
    {
      id: "physical.workstation-security",
      title: "Workstation security (physical safeguards for workstations that access ePHI)",
      hipaa: "164.310(c)",
      remediation: "None for the product: the covered entity secures the devices its users sign in from.",
    },
    TENANT_WORKSTATIONS,
  ),
  notApplicableCheck(
    {
      id: "physical.media-reuse",
      title: "Media re-use (ePHI removed from electronic media before re-use)",
      hipaa: "164.310(d)(2)(ii)",
      remediation: "None for the product: AWS sanitizes media before re-use (NIST 800-88).",
    },
    `${AWS_PHYSICAL} Storage media are AWS's: it sanitizes them before re-use (NIST 800-88) and no medium ever leaves a data center un-destroyed.`,
  ),
  notApplicableCheck(
    {
      id: "physical.media-accountability",
      title: "Accountability for the movements of hardware and electronic media",
      hipaa: "164.310(d)(2)(iii)",
      remediation: "None for the product: AWS keeps the records of its hardware's movements.",
    },
    `${AWS_PHYSICAL} No hardware or medium of the product exists to move.`,
  ),
  notApplicableCheck(
    {
      id: "physical.media-backup-before-move",
      title: "An exact copy of ePHI before equipment is moved",
      hipaa: "164.310(d)(2)(iv)",
      remediation:
        "None for the product: backups are checked by infra.backup-last-job-succeeded and infra.dynamodb-pitr.",
    },
    `${AWS_PHYSICAL} No equipment of the product is ever moved; the stage's own backups (AWS Backup, point-in-time recovery) are checked by the infrastructure checks.`,
  ),
  {
    id: "physical.media-disposal",
    title: "Disposal: ePHI can be made unrecoverable when it must go",
    hipaa: "164.310(d)(2)(i)",
    layer: "organizational",
    severity: "medium",
    weight: 1,
    remediation:
      "Provide a disposal flow that deletes a client's wrapped data key (crypto-shredding) with an audit entry.",
    // Physical media are AWS's (see above); the logical disposal is the product's. Its mechanism exists (every
    // client's fields and transcripts are sealed under the client's own data key, whose only stored copy is one
    // item of the keys table: deleting it shreds them), but no flow performs it yet: nothing to evaluate.
    evaluate: async () =>
      notEvaluated(
        "Disposal is crypto-shredding: every field and transcript of a client is sealed under that client's own data key, " +
          "stored once, wrapped, in the keys table; deleting that item makes them unrecoverable (physical media are AWS's, " +
          "sanitized under the AWS BAA). No disposal flow performs it yet (the data-lifecycle issue), so there is no " +
          "disposal to evidence.",
        { mechanism: "per-client data key (keys table)", disposalFlow: false },
      ),
  },
  notApplicableCheck(
    {
      id: "agreements.group-health-plan",
      title: "Group health plan documents restrict the plan sponsor's use of ePHI",
      hipaa: "164.314(b)(1)",
      remediation: "None: the standard applies to group health plans only.",
    },
    "§164.314(b) binds group health plans and their plan sponsors. CoachVault is a business associate of " +
      "coaching and care organizations (its BAA is checked by agreements.baa-recorded); neither it nor its tenants " +
      "act as a group health plan through it.",
  ),
  inspection({
    id: "documentation.retention-six-years",
    title: "Reports and audit checkpoints are kept, immutably, for at least six years",
    hipaa: "164.316(b)(2)(i)",
    severity: "high",
    weight: 2,
    remediation: `Give the reports and checkpoints buckets an Object Lock default retention in COMPLIANCE mode of at least 6 years (${DOCUMENTATION_RETENTION_DAYS} days).`,
    service: "s3",
    standInCannot: "s3rver (the local S3) does not model Object Lock retention",
    inspect: async (_context, config) =>
      everySubject(
        subjectsOf({ reports: config.BUCKET_REPORTS, checkpoints: config.BUCKET_CHECKPOINTS }),
        async (bucket) => {
          const lock = await objectLockOf(bucket);
          const days =
            lock.days ?? (lock.years !== undefined ? lock.years * 365 + Math.floor(lock.years / 4) : 0);
          return {
            holds: lock.enabled && lock.mode === "COMPLIANCE" && days >= DOCUMENTATION_RETENTION_DAYS,
            detail: { mode: lock.mode ?? null, retentionDays: days },
          };
        },
        "BUCKET_REPORTS, BUCKET_CHECKPOINTS",
      ),
  }),
  {
    id: "documentation.reviewed-within-year",
    title:
      "The org's security configuration was reviewed (changed or its BAA re-affirmed) within the last year",
    hipaa: "164.316(b)(2)(iii)",
    layer: "organizational",
    severity: "low",
    weight: 1,
    remediation:
      "Review the org's settings (retention, rate limits, break-glass, MFA rules) against your policies and record the review: PATCH /settings, or re-affirm the BAA.",
    // The product only sees changes: a review that changed nothing leaves no trace, so the check asks for one
    // recorded act a year (a settings change, or the BAA's acceptance), and weighs little.
    evaluate: async ({ orgId, now, settings, memo }) => {
      const document = await memo(`settings:document:${orgId}`, () => settingsDocument(orgId));
      const dates = [document.updatedAt, settings.baa?.acceptedAt].filter((date): date is string =>
        Boolean(date),
      );
      const latest = dates.sort().at(-1);
      const evidence = {
        settingsSource: document.source,
        settingsVersion: document.version,
        settingsUpdatedAt: document.updatedAt ?? null,
        baaAcceptedAt: settings.baa?.acceptedAt ?? null,
      };
      if (!latest) return failed(evidence);
      const ageDays = Math.floor((now.getTime() - Date.parse(latest)) / (24 * 3600 * 1000));
      return passIf(ageDays <= 365, { ...evidence, daysSinceReview: ageDays });
    },
  },
];
