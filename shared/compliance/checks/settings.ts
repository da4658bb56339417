import { type CheckDefinition, failed, passed, passIf } from "../check";

/** Checks over the org's own settings (`shared/settings`): what the tenant configured, read as the app does. */
export const settingsChecks: readonly CheckDefinition[] = [
  {
    id: "protection.rate-limits-on",
    title: "Request rate limits are enforced for every user of the org",
    hipaa: "164.308(a)(5)(ii)(C)",
    layer: "application",
    severity: "medium",
    weight: 2,
    remediation:
      "Turn rate limits back on: PATCH /settings with rateLimits.enabled true (an admin). Without them a stolen session can read every record at machine speed.",
    evaluate: async ({ settings }) => {
      const evidence = {
        enabled: settings.rateLimits.enabled,
        coachPerWindow: settings.rateLimits.perRole.coach,
        windowSeconds: settings.rateLimits.windowSeconds,
      };
      return passIf(settings.rateLimits.enabled, evidence);
    },
  },
  {
    id: "agreements.baa-recorded",
    title: "The org's Business Associate Agreement acceptance is recorded",
    hipaa: "164.314(a)(1)",
    layer: "organizational",
    severity: "high",
    weight: 3,
    remediation:
      "Record the signed Business Associate Agreement: PATCH /settings with baa {acceptedAt, acceptedBy, version} (an admin), after the covered entity has signed it.",
    evaluate: async ({ settings: { baa } }) =>
      baa
        ? passed({ acceptedAt: baa.acceptedAt, acceptedBy: baa.acceptedBy, version: baa.version })
        : failed({ recorded: false }),
  },
];
