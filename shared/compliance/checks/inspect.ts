import { type AwsClientName, standInOf } from "../../aws";
import { type Config, getConfig } from "../../config";
import type { CheckContext, CheckDefinition, Evidence, Outcome } from "../check";
import { notEvaluated, passIf } from "../check";

/**
 * What every check that reads the AWS account's configuration shares: where its service is answered. In the
 * cloud it reads the live configuration (permission `compliance:inspect`: read-only, the stage's resources).
 * Locally a service with no stand-in has no endpoint, so the check is `not_evaluated` saying so; a stand-in
 * that does not model the property (`standInCannot`) makes it `not_evaluated` with that reason. Either way
 * it never passes on what it could not see.
 */
export type InspectionCheck = Omit<CheckDefinition, "layer" | "evaluate"> & {
  /** The client whose answers decide the check. */
  service: AwsClientName;
  /** Why the service's local stand-in cannot show the property; absent when it can. */
  standInCannot?: string;
  inspect: (context: CheckContext, config: Config) => Promise<Outcome>;
};

/** Service names as an operator knows them, for the reasons the report prints. */
const SERVICE_NAMES: Readonly<Record<AwsClientName, string>> = {
  dynamo: "DynamoDB",
  dynamoRaw: "DynamoDB",
  dynamoStreams: "DynamoDB Streams",
  kms: "KMS",
  s3: "S3",
  cognito: "Cognito",
  comprehendMedical: "Comprehend Medical",
  lambda: "Lambda",
  sns: "SNS",
  cloudTrail: "CloudTrail",
  wafv2: "WAF",
  logs: "CloudWatch Logs",
  backup: "AWS Backup",
};

export const inspection = (check: InspectionCheck): CheckDefinition => {
  const { service, standInCannot, inspect, ...definition } = check;
  return {
    ...definition,
    layer: "infrastructure",
    evaluate: async (context) => {
      const config = getConfig();
      const reach = standInOf(service, config);
      if (reach === "none") return notEvaluated(`no local stand-in for ${SERVICE_NAMES[service]}`);
      if (reach === "local" && standInCannot) return notEvaluated(standInCannot);
      return inspect(context, config);
    },
  };
};

/** A check whose subject this function was not told about (its setting is unset) proves nothing. */
export const notConfigured = (...settings: string[]): Outcome =>
  notEvaluated(`not configured: ${settings.join(", ")} (set for functions holding compliance:inspect)`);

/** An SDK call that answers "there is none" with an error (S3's missing configurations): undefined then. */
export async function absentOn<T>(call: Promise<T>, absentErrors: readonly string[]): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof Error && absentErrors.includes(error.name)) return undefined;
    throw error;
  }
}

/** Named subjects (buckets, tables, keys) some of which may be unset for this function. */
export type Subjects = { configured: [name: string, id: string][]; notConfigured: string[] };
export const subjectsOf = (candidates: Readonly<Record<string, string | undefined>>): Subjects => {
  const configured: [string, string][] = [];
  const notConfigured: string[] = [];
  for (const [name, id] of Object.entries(candidates)) {
    if (id) configured.push([name, id]);
    else notConfigured.push(name);
  }
  return { configured, notConfigured };
};

/**
 * Probes every configured subject and passes when all hold. Evidence names which held and which did not, by
 * their role (`transcripts`, `audit`), never their contents; subjects this function was not given are listed.
 */
export async function everySubject(
  subjects: Subjects,
  probe: (id: string, name: string) => Promise<{ holds: boolean; detail?: Evidence }>,
  settingNames: string,
): Promise<Outcome> {
  if (subjects.configured.length === 0) return notConfigured(settingNames);
  const results = await Promise.all(
    subjects.configured.map(async ([name, id]) => ({ name, ...(await probe(id, name)) })),
  );
  const failing = results.filter((result) => !result.holds).map((result) => result.name);
  const evidence: Record<string, Evidence[string]> = {
    checked: results.map((result) => result.name),
    failing,
    ...(subjects.notConfigured.length > 0 && { notConfigured: subjects.notConfigured }),
  };
  for (const result of results)
    for (const [key, value] of Object.entries(result.detail ?? {})) evidence[`${result.name}.${key}`] = value;
  return passIf(failing.length === 0, evidence);
}
