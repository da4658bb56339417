import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import type { StreamBatch } from "../jobs";
import { logger } from "../log";
import { getUser } from "../people";
import { raiseSecurityEvent } from "../security/events";
import { platformSettings, tenantSettings } from "../settings";
import { DynamoState } from "./dynamo-state";
import { type AccountStatus, createDetector } from "./engine";
import type { Observation } from "./observations";

/**
 * A stream job's batch (`processStream`): each new item of the stream that is an observation goes through
 * the detectors, in stream order. Only INSERTs: the audit table is append-only (changes are the witness's
 * business), and in the security table a signal is written once, while the detectors' own state and
 * findings (other sort keys) are never observations. A record that fails (an AWS call after its retries)
 * fails the batch from there: the stream delivers it again, and the sets and dedupe keys make that safe.
 */
const state = new DynamoState();

export function detectionBatch(
  observe: (item: Record<string, unknown>) => Observation | undefined,
): StreamBatch {
  // Directory answers for this batch only: a disabling must be seen by the next batch.
  const accounts = new Map<string, Promise<AccountStatus | undefined>>();
  const detector = createDetector({
    state,
    // What no org is known for (an IP's failures, a failed sign-in) is judged by the platform default.
    settings: (orgId) => (orgId ? tenantSettings(orgId) : platformSettings()),
    account: (orgId, userId) => {
      const key = `${orgId}\n${userId}`;
      let found = accounts.get(key);
      if (!found) {
        found = getUser(orgId, userId).then(
          (user) => user && { active: user.status === "active", since: user.updatedAt },
        );
        accounts.set(key, found);
      }
      return found;
    },
    raise: raiseSecurityEvent,
    now: Date.now,
  });
  return {
    record: async (change: DynamoDBRecord) => {
      if (change.eventName !== "INSERT") return;
      const item = readImage(change);
      const observation = item && observe(item);
      if (observation) await detector.observe(observation);
    },
  };
}

/**
 * A new item's attributes, or nothing when they cannot be read as JavaScript values (a number beyond what
 * a double or BigInt holds, planted by hand: no writer of this code makes one). Such an item is no
 * observation; failing its record instead would hold up every record after it in the shard until the
 * batch is given up. The audit verifier reports the item itself as tampering.
 */
function readImage(change: DynamoDBRecord): Record<string, unknown> | undefined {
  try {
    return unmarshall((change.dynamodb?.NewImage ?? {}) as Record<string, AttributeValue>);
  } catch {
    logger.warn("stream item unreadable, not an observation", { eventId: change.eventID });
    return undefined;
  }
}
