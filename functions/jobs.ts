import type { Permission } from "../shared/http/route";

/**
 * The scheduled jobs: functions EventBridge invokes on a schedule rather than API Gateway on a request.
 * The CDK app makes one function, role and rule per entry, from the same permission vocabulary as routes.
 */
export type JobSpec = {
  /** Module under `functions/` exporting `handler`. */
  handler: string;
  summary: string;
  /** EventBridge schedule expression. */
  schedule: string;
  permissions: readonly Permission[];
  timeoutSeconds: number;
};

export const jobs = {
  auditCheckpoint: {
    handler: "audit/checkpoint",
    summary: "Sign a checkpoint of every registered org's audit chains that moved since its last one",
    schedule: "rate(5 minutes)",
    permissions: [
      "records:read",
      "audit:read",
      "checkpoints:read",
      "checkpoints:write",
      "kms:sign-checkpoints",
    ],
    timeoutSeconds: 120,
  },
} as const satisfies Record<string, JobSpec>;

export const jobList: readonly (JobSpec & { id: string })[] = Object.entries(jobs).map(([id, spec]) => ({
  id,
  ...spec,
}));
