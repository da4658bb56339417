import { BackupClient } from "@aws-sdk/client-backup";
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { ComprehendMedicalClient } from "@aws-sdk/client-comprehendmedical";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { KMSClient } from "@aws-sdk/client-kms";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { WAFV2Client } from "@aws-sdk/client-wafv2";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type Config, getConfig } from "../config";
import { countCalls } from "./call-counter";
import { classifyErrors } from "./errors";
import { readNumber } from "./numbers";

export { awsCallCounts, resetAwsCallCounts } from "./call-counter";
export { ERROR_CLASSIFIER, isTransientAwsError } from "./errors";
export { type FanOutOptions, fanOut, isThrottled } from "./fan-out";
export { readNumber } from "./numbers";

/**
 * The only place AWS SDK clients are built. Local mode differs from the cloud only by the endpoint
 * each client is given; everything else (protocol, signing, retries) is the real SDK.
 */
type Clients = {
  dynamo: DynamoDBDocumentClient;
  /**
   * The plain client under `dynamo` (one middleware stack: counted, classified, fault-injected alike), for
   * libraries that take an SDK client and marshal themselves (Powertools Parameters).
   */
  dynamoRaw: DynamoDBClient;
  kms: KMSClient;
  s3: S3Client;
  cognito: CognitoIdentityProviderClient;
  comprehendMedical: ComprehendMedicalClient;
  lambda: LambdaClient;
  /** Publishes security findings to the alarm topic. */
  sns: SNSClient;
  /** Only the local stack reads streams itself (in the cloud, Lambda's event source mapping does). */
  dynamoStreams: DynamoDBStreamsClient;
  /** Read-only, for the infrastructure compliance checks (permission `compliance:inspect`). */
  cloudTrail: CloudTrailClient;
  wafv2: WAFV2Client;
  logs: CloudWatchLogsClient;
  backup: BackupClient;
};

let cached: { config: Config; clients: Partial<Clients> } | undefined;

/** Stand-in credentials for local endpoints; s3rver accepts only its own well-known pair. */
const LOCAL_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** The options every client is built with (exported for its test). */
export function clientOptions(config: Config, endpoint: string | undefined) {
  return {
    region: config.AWS_REGION,
    ...(endpoint ? { endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    maxAttempts: 3,
    // Bounded waits: a service that cannot be reached (no VPC endpoint, a network fault) fails in
    // seconds as a retryable 503, instead of holding the function until its timeout (a 502/504).
    requestHandler: {
      connectionTimeout: config.AWS_CONNECT_TIMEOUT_MS,
      requestTimeout: config.AWS_REQUEST_TIMEOUT_MS,
      // Without it the handler only warns when a request outlives requestTimeout.
      throwOnRequestTimeout: true,
    },
  };
}

/** Every client counts its calls (for the benchmarks) and turns transient failures into typed 503s. */
// biome-ignore lint/suspicious/noExplicitAny: every SDK client shares this middleware-stack shape
const instrument = <C extends { middlewareStack: any }>(client: C, service: string) =>
  classifyErrors(countCalls(client, service));

/** How each client is built: its endpoint setting and the name its calls are counted under. */
const BUILDERS: { [K in keyof Clients]: (config: Config) => Clients[K] } = {
  dynamo: () =>
    DynamoDBDocumentClient.from(aws("dynamoRaw"), {
      marshallOptions: { removeUndefinedValues: true },
      unmarshallOptions: { wrapNumbers: readNumber },
    }),
  dynamoRaw: (config) =>
    instrument(new DynamoDBClient(clientOptions(config, config.ENDPOINT_DYNAMODB)), "dynamodb"),
  kms: (config) => instrument(new KMSClient(clientOptions(config, config.ENDPOINT_KMS)), "kms"),
  s3: (config) =>
    instrument(
      new S3Client({
        ...clientOptions(config, config.ENDPOINT_S3),
        forcePathStyle: Boolean(config.ENDPOINT_S3),
      }),
      "s3",
    ),
  cognito: (config) =>
    instrument(new CognitoIdentityProviderClient(clientOptions(config, config.ENDPOINT_COGNITO)), "cognito"),
  comprehendMedical: (config) =>
    instrument(
      new ComprehendMedicalClient(clientOptions(config, config.ENDPOINT_COMPREHENDMEDICAL)),
      "comprehendmedical",
    ),
  lambda: (config) => instrument(new LambdaClient(clientOptions(config, config.ENDPOINT_LAMBDA)), "lambda"),
  sns: (config) => instrument(new SNSClient(clientOptions(config, config.ENDPOINT_SNS)), "sns"),
  // Streams share DynamoDB's endpoint.
  dynamoStreams: (config) =>
    instrument(new DynamoDBStreamsClient(clientOptions(config, config.ENDPOINT_DYNAMODB)), "dynamodbstreams"),
  cloudTrail: (config) =>
    instrument(new CloudTrailClient(clientOptions(config, config.ENDPOINT_CLOUDTRAIL)), "cloudtrail"),
  wafv2: (config) => instrument(new WAFV2Client(clientOptions(config, config.ENDPOINT_WAFV2)), "wafv2"),
  logs: (config) =>
    instrument(new CloudWatchLogsClient(clientOptions(config, config.ENDPOINT_CLOUDWATCHLOGS)), "logs"),
  backup: (config) => instrument(new BackupClient(clientOptions(config, config.ENDPOINT_BACKUP)), "backup"),
};

/** Each client's endpoint setting (its local stand-in when set); streams share DynamoDB's. */
const ENDPOINTS: { [K in keyof Clients]: (config: Config) => string | undefined } = {
  dynamo: (config) => config.ENDPOINT_DYNAMODB,
  dynamoRaw: (config) => config.ENDPOINT_DYNAMODB,
  dynamoStreams: (config) => config.ENDPOINT_DYNAMODB,
  kms: (config) => config.ENDPOINT_KMS,
  s3: (config) => config.ENDPOINT_S3,
  cognito: (config) => config.ENDPOINT_COGNITO,
  comprehendMedical: (config) => config.ENDPOINT_COMPREHENDMEDICAL,
  lambda: (config) => config.ENDPOINT_LAMBDA,
  sns: (config) => config.ENDPOINT_SNS,
  cloudTrail: (config) => config.ENDPOINT_CLOUDTRAIL,
  wafv2: (config) => config.ENDPOINT_WAFV2,
  logs: (config) => config.ENDPOINT_CLOUDWATCHLOGS,
  backup: (config) => config.ENDPOINT_BACKUP,
};

export type AwsClientName = keyof Clients;

/**
 * Where a client's calls go: `cloud` (no endpoint is set for any service: the real AWS), `local` (this
 * service's stand-in), or `none` (the local stack runs, with no stand-in for this service: its calls would
 * reach the real AWS with the stand-ins' fake credentials, so nothing may call it).
 */
export function standInOf(name: AwsClientName, config: Config = getConfig()): "cloud" | "local" | "none" {
  const local = Object.values(ENDPOINTS).some((endpoint) => endpoint(config) !== undefined);
  if (!local) return "cloud";
  return ENDPOINTS[name](config) ? "local" : "none";
}

/** Returns the shared client for a service, built once per process (Lambda reuses it across invocations). */
export function aws<K extends keyof Clients>(name: K): Clients[K] {
  const config = getConfig();
  if (cached?.config !== config) cached = { config, clients: {} };
  cached.clients[name] ??= BUILDERS[name](config);
  return cached.clients[name] as Clients[K];
}
