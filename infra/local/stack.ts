import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join, resolve } from "node:path";
import { jobList } from "../../functions/jobs";
import { routeList } from "../../functions/routes";
import { resetConfig } from "../../shared/config";
import {
  BUCKETS,
  type BucketName,
  functionEnvironment,
  resourceName,
  TABLES,
  type TableName,
} from "../resources";
import { startCognitoLocal } from "./cognito";
import { startLocalComprehendMedical } from "./comprehend-medical";
import { startDynamoDbLocal } from "./dynamodb";
import { startGateway } from "./gateway";
import { startLocalKms } from "./kms";
import { startLocalLambda } from "./lambda";
import { freePort, isPortFree, stopChild } from "./processes";
import {
  type DemoUser,
  moveDirectoryOutOfRecords,
  provisionBuckets,
  provisionTables,
  provisionUserPool,
  seedDirectory,
  seedUsers,
} from "./provision";
import { startS3rver } from "./s3";
import { runDeployJobs, startSchedules } from "./schedules";
import { localAlarmTopicArn, startLocalSns } from "./sns";
import { startStreamPoller } from "./streams";

/**
 * The whole local stack behind `npm start`, the test run's global setup and the benchmarks: real
 * protocols on loopback, resources made from `infra/resources.ts`, data kept in `dir`.
 */
export type Ports = {
  api: number;
  dynamodb: number;
  s3: number;
  cognito: number;
  kms: number;
  comprehendMedical: number;
  lambda: number;
  sns: number;
};
export const DEFAULT_PORTS: Ports = {
  api: 8443,
  dynamodb: 8000,
  s3: 4569,
  cognito: 9229,
  kms: 4599,
  comprehendMedical: 4598,
  lambda: 4597,
  sns: 4596,
};
/** The environment variable that moves each port (`npm start` reads them; the test run sets them). */
export const PORT_VARIABLES: Readonly<Record<keyof Ports, string>> = {
  api: "PORT",
  dynamodb: "DYNAMODB_PORT",
  s3: "S3_PORT",
  cognito: "COGNITO_PORT",
  kms: "KMS_PORT",
  comprehendMedical: "COMPREHEND_MEDICAL_PORT",
  lambda: "LAMBDA_PORT",
  sns: "SNS_PORT",
};

/** A free port for every service (tests and benchmarks run their own stacks beside `npm start`). */
export async function freePorts(): Promise<Ports> {
  const ports: Partial<Ports> = {};
  for (const service of Object.keys(DEFAULT_PORTS) as (keyof Ports)[]) ports[service] = await freePort();
  return ports as Ports;
}

export type Endpoints = {
  apiUrl: string;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  services: {
    dynamodb: string;
    s3: string;
    cognito: string;
    kms: string;
    comprehendMedical: string;
    lambda: string;
    sns: string;
  };
  /** The local alarm topic (infra/local/sns.ts appends what it receives to `<dir>/sns/messages.jsonl`). */
  alarmTopicArn: string;
  tables: Record<TableName, string>;
  buckets: Record<BucketName, string>;
  /** Every setting a function needs, to run code against this stack from another process. */
  env: Record<string, string>;
};

const REGION = "us-east-1";
const STAGE = "local";

export const endpointsFile = (dir: string) => join(dir, "endpoints.json");
export const demoUsersFile = (dir: string) => join(dir, "demo-users.json");

export function readEndpoints(dir: string): Endpoints {
  return JSON.parse(readFileSync(endpointsFile(dir), "utf8")) as Endpoints;
}

export function readDemoUsers(dir: string): DemoUser[] {
  return JSON.parse(readFileSync(demoUsersFile(dir), "utf8")) as DemoUser[];
}

/** Points this process's settings (and so `shared/aws`) at a running local stack. */
export function useLocalStack(endpoints: Endpoints): void {
  Object.assign(process.env, endpoints.env);
  resetConfig();
}

export type StackOptions = {
  dir: string;
  fresh: boolean;
  ports: Ports;
  allowedOrigins?: readonly string[];
  /** How often stream jobs poll their table's stream (default 1000 ms); 0 runs no stream jobs. */
  streamPollMs?: number;
  /** Whether scheduled jobs run at their rates, as EventBridge runs them (default true; tests run them by hand). */
  scheduledJobs?: boolean;
};

export async function startLocalStack(options: StackOptions) {
  const dir = resolve(options.dir);
  if (options.fresh) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { ports } = options;
  for (const [service, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) {
      throw new Error(
        `port ${port} (${service}) is in use: is another CoachVault stack running? (set PORT / ${service.toUpperCase()}_PORT to move it)`,
      );
    }
  }
  const children: ChildProcess[] = [];
  // Whatever ends this process, its children (Java, cognito-local) end with it.
  process.once("exit", () => {
    for (const child of children) child.kill("SIGKILL");
  });
  const servers: { close: () => unknown }[] = [];
  const stop = async () => {
    for (const server of servers.reverse()) await Promise.resolve(server.close());
    await Promise.all(children.map(stopChild));
  };

  try {
    children.push(await startDynamoDbLocal(dir, ports.dynamodb));
    children.push(await startCognitoLocal(dir, ports.cognito));
    const s3 = await startS3rver(dir, ports.s3);
    servers.push({ close: () => s3.close() });
    const kms = await startLocalKms(dir, ports.kms, REGION);
    servers.push(closable(kms.server));
    servers.push(closable(await startLocalComprehendMedical(ports.comprehendMedical)));
    servers.push(closable(await startLocalSns(dir, ports.sns, REGION)));

    const local = (port: number) => `http://127.0.0.1:${port}`;
    const tables = Object.fromEntries(Object.keys(TABLES).map((t) => [t, resourceName(STAGE, t)])) as Record<
      TableName,
      string
    >;
    const buckets = Object.fromEntries(
      Object.keys(BUCKETS).map((b) => [b, resourceName(STAGE, b)]),
    ) as Record<BucketName, string>;
    const services = {
      dynamodb: local(ports.dynamodb),
      s3: local(ports.s3),
      cognito: local(ports.cognito),
      kms: local(ports.kms),
      comprehendMedical: local(ports.comprehendMedical),
      lambda: local(ports.lambda),
      sns: local(ports.sns),
    };
    const serviceEnv = {
      AWS_REGION: REGION,
      ENDPOINT_DYNAMODB: services.dynamodb,
      ENDPOINT_S3: services.s3,
      ENDPOINT_COGNITO: services.cognito,
      ENDPOINT_KMS: services.kms,
      ENDPOINT_COMPREHENDMEDICAL: services.comprehendMedical,
      ENDPOINT_LAMBDA: services.lambda,
      ENDPOINT_SNS: services.sns,
      // One process serves every function locally: all of them see the topic (in the cloud, only those
      // holding `security:alert`).
      ALARM_TOPIC_ARN: localAlarmTopicArn(REGION),
    };
    const allowedOrigins = options.allowedOrigins ?? ["https://localhost:3000"];
    // Provisioning needs the SDK clients pointed at the local services before the pool exists.
    const provisional = {
      ...serviceEnv,
      ...functionEnvironment({
        stage: STAGE,
        tables,
        buckets,
        kmsDataKeyId: kms.dataKeyId,
        kmsAuditSigningKeyId: kms.auditSigningKeyId,
        userPoolId: "pending",
        userPoolClientId: "pending",
        allowedOrigins,
      }),
    };
    Object.assign(process.env, provisional);
    resetConfig();

    const created = await provisionTables(tables);
    if (created.includes("directory") && !created.includes("records"))
      await moveDirectoryOutOfRecords(tables);
    await provisionBuckets(buckets);
    const poolFile = join(dir, "cognito", "pool.json");
    if (!existsSync(poolFile) || !existsSync(demoUsersFile(dir))) {
      const pool = await provisionUserPool(resourceName(STAGE, "users"));
      const users = await seedUsers(pool.userPoolId, pool.clientId);
      await seedDirectory(users, tables.directory);
      writeFileSync(poolFile, JSON.stringify(pool));
      writeFileSync(demoUsersFile(dir), JSON.stringify(users, null, 2), { mode: 0o600 });
    }
    const pool = JSON.parse(readFileSync(poolFile, "utf8")) as { userPoolId: string; clientId: string };
    const issuer = `${services.cognito}/${pool.userPoolId}`;
    const endpoints: Endpoints = {
      apiUrl: `https://localhost:${ports.api}`,
      region: REGION,
      userPoolId: pool.userPoolId,
      userPoolClientId: pool.clientId,
      services,
      alarmTopicArn: localAlarmTopicArn(REGION),
      tables,
      buckets,
      env: {
        ...provisional,
        USER_POOL_ID: pool.userPoolId,
        USER_POOL_CLIENT_ID: pool.clientId,
        COGNITO_ISSUER: issuer,
        COGNITO_JWKS_URL: `${issuer}/.well-known/jwks.json`,
      },
    };
    useLocalStack(endpoints);

    const functionNamePrefix = resourceName(STAGE, "");
    // As a deploy does: the token keys are stored before the gateway takes its first request.
    await runDeployJobs({
      jobs: jobList,
      functionNamePrefix,
      loadHandler: (job) => loadFunction(job.handler),
    });
    const gateway = await startGateway({
      dir,
      port: ports.api,
      routes: routeList,
      allowedOrigins,
      loadHandler: (route) => loadFunction(route.handler),
    });
    servers.push(closable(gateway));
    const lambda = await startLocalLambda({
      port: ports.lambda,
      functionNamePrefix,
      jobs: jobList,
      loadHandler: (job) => loadFunction(job.handler),
    });
    servers.push(closable(lambda));
    if (options.streamPollMs !== 0) {
      servers.push(
        await startStreamPoller({
          jobs: jobList,
          tables,
          intervalMs: options.streamPollMs ?? 1000,
          functionNamePrefix,
          stateFile: join(dir, "streams.json"),
          loadHandler: (job) => loadFunction(job.handler),
        }),
      );
    }
    if (options.scheduledJobs !== false)
      servers.push(
        startSchedules({
          jobs: jobList,
          functionNamePrefix,
          loadHandler: (job) => loadFunction(job.handler),
        }),
      );
    writeFileSync(endpointsFile(dir), JSON.stringify(endpoints, null, 2));
    return { endpoints, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A function's handler module, imported once for the gateway, the Lambda endpoint, the poller and the schedules. */
const loaded = new Map<string, Promise<unknown>>();
function loadFunction<H>(handler: string): Promise<H> {
  if (!loaded.has(handler))
    loaded.set(
      handler,
      import(`../../functions/${handler}.ts`).then((module) => module.handler),
    );
  return loaded.get(handler) as Promise<H>;
}

const closable = (server: Pick<Server, "close" | "closeAllConnections">) => ({
  close: () =>
    new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections?.();
    }),
});
