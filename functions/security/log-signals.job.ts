import { gunzipSync } from "node:zlib";
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from "aws-lambda";
import * as z from "zod";
import { createJob, type JobInvocation } from "../../shared/jobs";
import { logger } from "../../shared/log";
import { recordSignal, type Signal } from "../../shared/security";
import { routeList } from "../routes";

/**
 * What happens before any function runs, as signals: the API Gateway access log's 401s (the Cognito
 * authorizer refuses a missing or invalid token itself) and the user pool's failed sign-ins (threat
 * protection's exported user auth events), delivered by CloudWatch Logs subscription filters. Each batch
 * is aggregated per kind, IP and minute into one signal with a `count`, and its signal ids are made from
 * the batch's log event ids, so a retried delivery writes the same items again instead of new ones.
 * Nothing but the IP, the route (its handler id, as the pipeline names it), the time and, for a failed
 * sign-in of an existing user, the user's Cognito `sub` (the product's user id, so brute force per user is
 * counted) is kept: never a token, a username or an email. No org: a sign-in happens before any token says
 * which org, so these are platform signals (their findings too).
 */

const IP = z.union([z.ipv4(), z.ipv6()]);
/** The access log format of infra/cloud/api.ts (`jsonWithStandardFields`): `status` is a string. */
const AccessLogLine = z.object({
  ip: IP,
  status: z.string(),
  httpMethod: z.string().max(16).optional(),
  resourcePath: z.string().max(256).optional(),
});

/** A route's handler id (`clients/get`) from the access log's method and path template, as the pipeline names it. */
const routeOf = (method: string | undefined, resourcePath: string | undefined) =>
  routeList.find((route) => route.method === method && route.path === resourcePath)?.handler;
/** An exported user auth event: the fields read, wherever Cognito nests them (`message` or the top level). */
const AuthEventFields = z.object({
  eventType: z.string().optional(),
  eventResponse: z.string(),
  /** The user's Cognito `sub`, present when the username named an existing user. */
  userSub: z.string().optional(),
  eventContextData: z.object({ ipAddress: IP }).optional(),
});
const AuthEventLine = z.union([z.object({ message: AuthEventFields }), AuthEventFields]);

/** Distinct (kind, IP, minute) aggregates one batch writes at most; the rest go into one overflow signal. */
export const MAX_SIGNALS_PER_BATCH = 200;

type Observation = Pick<Signal, "kind" | "ip" | "route" | "userId"> & { at: number; id: string };

/** A Cognito `sub` is a UUID: anything else (a username, an email) is never kept. */
const SUB = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One log line as an observation, or undefined for anything else (a 200, a successful sign-in, noise). */
export function observationOf(line: string, at: number, id: string): Observation | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  const access = AccessLogLine.safeParse(parsed);
  if (access.success) {
    if (access.data.status !== "401") return undefined;
    const route = routeOf(access.data.httpMethod, access.data.resourcePath);
    return { kind: "unauthenticated", ip: access.data.ip, ...(route && { route }), at, id };
  }
  const auth = AuthEventLine.safeParse(parsed);
  if (!auth.success) return undefined;
  const event = "message" in auth.data ? auth.data.message : auth.data;
  if (event.eventResponse.toLowerCase() !== "fail") return undefined;
  if (event.eventType && event.eventType !== "SignIn") return undefined;
  return {
    kind: "sign_in_failed",
    ...(event.eventContextData && { ip: event.eventContextData.ipAddress }),
    ...(event.userSub && SUB.test(event.userSub) && { userId: event.userSub.toLowerCase() }),
    at,
    id,
  };
}

const minuteOf = (at: number) => new Date(Math.floor(at / 60_000) * 60_000).toISOString();

/** A batch's observations as signals: one per kind, IP, user, route and minute, with how many it stands for. */
export function aggregate(observations: readonly Observation[]): Signal[] {
  const groups = new Map<string, { signal: Signal; id: string }>();
  let overflow: { signal: Signal; id: string } | undefined;
  for (const observation of observations) {
    const at = minuteOf(observation.at);
    const key = [
      observation.kind,
      observation.ip ?? "",
      observation.userId ?? "",
      observation.route ?? "",
      at,
    ].join("|");
    let group = groups.get(key);
    if (!group && groups.size >= MAX_SIGNALS_PER_BATCH) {
      overflow ??= {
        signal: { kind: observation.kind, at, reason: "overflow", count: 0 },
        id: `log-${observation.id}`,
      };
      group = overflow;
    }
    if (!group) {
      group = {
        signal: {
          kind: observation.kind,
          at,
          ...(observation.ip && { ip: observation.ip }),
          ...(observation.userId && { userId: observation.userId }),
          ...(observation.route && { route: observation.route }),
          count: 0,
        },
        id: `log-${observation.id}`,
      };
      groups.set(key, group);
    }
    group.signal.count = (group.signal.count ?? 0) + 1;
  }
  return [...groups.values(), ...(overflow ? [overflow] : [])].map(({ signal, id }) => ({
    ...signal,
    requestId: id,
  }));
}

export function decode(event: CloudWatchLogsEvent): CloudWatchLogsDecodedData {
  return JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, "base64")).toString("utf8"));
}

export async function run(event: CloudWatchLogsEvent, _job: JobInvocation): Promise<{ signals: number }> {
  const data = decode(event);
  // CloudWatch Logs checks a new subscription's destination with a control message: nothing to record.
  if (data.messageType !== "DATA_MESSAGE") return { signals: 0 };
  const observations = data.logEvents.flatMap((logEvent) => {
    const observation = observationOf(logEvent.message, logEvent.timestamp, logEvent.id);
    return observation ? [observation] : [];
  });
  const signals = aggregate(observations);
  // A failure throws: Lambda retries the asynchronous delivery, and the same ids overwrite what was written.
  for (const signal of signals) await recordSignal(signal);
  logger.info("log signals recorded", { lines: data.logEvents.length, signals: signals.length });
  return { signals: signals.length };
}

export const handler = createJob("logSignals", run);
