import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import {
  AUDIT_CHAIN_BROKEN,
  AUDIT_TAMPER_DETECTED,
  breaksChain,
  type ChainBreak,
  checkInsert,
  recordBreaks,
  recordHeads,
  type WitnessedHead,
} from "../../shared/audit";
import { readNumber } from "../../shared/aws";
import { createStreamHandler, type JobInvocation, processStream, type StreamBatch } from "../../shared/jobs";
import { logger } from "../../shared/log";

/**
 * The live witness (`shared/audit/witness.ts`): the audit table's stream, a batch at a time. Every INSERT
 * is checked (chain key, own hash, index attributes, link to its predecessor); every MODIFY and REMOVE is
 * tampering, since nothing legitimate changes or deletes an audit item. Either raises a security event at
 * once. After each batch it records the heads of the chains seen (an item it flagged is never one) and
 * where a chain broke.
 */
type Image = Record<string, AttributeValue>;
// Numbers as every reader of the table takes them (`readNumber`): an absurd one is named, never a throw.
const image = (value: unknown) => unmarshall((value ?? {}) as Image, { wrapNumbers: readNumber });
/** Keys come from whoever wrote the item: bounded before they go into a log line. */
const clip = (value: unknown) => String(value).slice(0, 128);

/** The newest head this instance has seen per chain (Lambda keeps it between batches), bounded. */
const seen = new Map<string, Omit<WitnessedHead, "chain">>();
const MAX_CHAINS_REMEMBERED = 10_000;

function remember(head: WitnessedHead) {
  const known = seen.get(head.chain);
  if (known && known.seq >= head.seq) return;
  seen.delete(head.chain);
  seen.set(head.chain, { seq: head.seq, hash: head.hash });
  if (seen.size > MAX_CHAINS_REMEMBERED) seen.delete(seen.keys().next().value as string);
}

/** The names (never the values) of the attributes a MODIFY changed. */
function changedAttributes(before: Image, after: Image): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => JSON.stringify(before[name]) !== JSON.stringify(after[name])).sort();
}

export function witnessBatch(): StreamBatch {
  const heads = new Map<string, WitnessedHead>();
  const breaks = new Map<string, ChainBreak>();
  const record = async (change: DynamoDBRecord) => {
    // Keys raw for the log line: an item put by hand may hold a number no audit item does.
    const keys = change.dynamodb?.Keys;
    const at = { chain: clip(keys?.pk?.S), seq: Number(keys?.seq?.N) };
    if (change.eventName === "INSERT") {
      const item = image(change.dynamodb?.NewImage);
      const chain = String(item.pk);
      const problem = await checkInsert(item, seen);
      if (problem) {
        logger.warn("audit entry does not fit its chain", {
          securityEvent: AUDIT_CHAIN_BROKEN,
          ...at,
          ...problem,
        });
        // Never a head; and a misfit inside a chain breaks it there (the first break is the one kept).
        if (breaksChain(problem) && !breaks.has(chain))
          breaks.set(chain, { seq: at.seq, problem: problem.problem });
        return;
      }
      const head = { chain, seq: at.seq, hash: String(item.hash) };
      remember(head);
      // Past a break in this batch the chain's head is no longer advanced (nor, once recorded, ever).
      if (!breaks.has(chain) && (heads.get(chain)?.seq ?? 0) < head.seq) heads.set(chain, head);
      return;
    }
    const before = (change.dynamodb?.OldImage ?? {}) as Image;
    const after = (change.dynamodb?.NewImage ?? {}) as Image;
    logger.warn("audit entry changed or removed", {
      securityEvent: AUDIT_TAMPER_DETECTED,
      ...at,
      change: change.eventName === "MODIFY" ? "modified" : "removed",
      ...(change.eventName === "MODIFY" && { attributes: changedAttributes(before, after) }),
      // A TTL deletion is made by DynamoDB itself (the audit table's resource policy forbids setting one).
      ...(change.userIdentity?.principalId === "dynamodb.amazonaws.com" && { by: "ttl" }),
    });
  };
  const finish = async () => {
    await recordHeads([...heads.values()]);
    await recordBreaks(breaks);
  };
  return { record, finish };
}

export const run = (event: DynamoDBStreamEvent, job: JobInvocation) =>
  processStream("auditWitness", event, job, witnessBatch);

export const handler = createStreamHandler("auditWitness", witnessBatch);
