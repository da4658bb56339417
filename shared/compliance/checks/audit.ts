import {
  type OrgVerification,
  queryEntries,
  type SignedCheckpoint,
  verificationKey,
  verifyOrg,
  witnessedChains,
} from "../../audit";
import { chainHead, chainId, disclosurePartition } from "../../audit/chain";
import {
  type CheckpointObject,
  checkpointObjects,
  checkpointProblem,
  configuredSigningKeys,
  readCheckpointVersion,
  shardsToCover,
} from "../../audit/checkpoint";
import { getConfig } from "../../config";
import { batchGet, getRecord } from "../../store";
import {
  type CheckContext,
  type CheckDefinition,
  type Evidence,
  evidenceText,
  failed,
  notApplicable,
  passed,
} from "../check";
import { isPhiAccess, type PeriodTrail, periodTrail, type TrailEntry } from "../trail";

/**
 * Checks over the audit trail (§164.312(b) audit controls, §164.312(c) integrity): the chains verify from
 * the latest signed checkpoint, checkpoints keep up, the live witness keeps up and saw no break, the daily
 * verification from genesis ran and passed, and the period's entries are complete and attributed. Each
 * reads what grows with the period (entries since the checkpoint, the period's entries), never the history.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** The checkpoint job runs every 5 minutes: an entry older than this and still not pinned means it stopped. */
export const CHECKPOINT_MAX_LAG_MS = HOUR_MS;
/** Stream delivery and the witness's batch: an entry older than this that the witness has not recorded means it stalled. */
export const WITNESS_MAX_LAG_MS = 15 * MINUTE_MS;
/** The daily verification runs once a day: a passing run within two days allows one missed or slow run. */
export const DAILY_VERIFICATION_MAX_AGE_MS = 48 * HOUR_MS;
/** The service the daily verification from genesis runs as (`functions/audit/verify-daily.job.ts`). */
export const DAILY_VERIFICATION_SERVICE = "job:verifyAuditDaily";
/** Positions listed in evidence (the rest are counted). */
const LISTED = 10;
/** Concurrent BatchGets of disclosure pointers. */
const POINTER_READS = 4;

/**
 * Actions that touch a client's PHI on no relationship to the client, by design: the policy grants them
 * at org level. Every other PHI access must name the relationship it rested on.
 */
export const ORG_LEVEL_PHI_ACTIONS: Readonly<Record<string, string>> = {
  "client.create": "the creator becomes the client's first coach; no relationship exists before the record",
  "breakglass.review": "a compliance officer reviews a grant at org level and writes the review note",
  "change.approve": "an admin approves a reassignment at org level (two-person rule)",
  "change.reject": "an admin rejects a reassignment at org level (two-person rule)",
};

const trailOf = (context: CheckContext): Promise<PeriodTrail> =>
  periodTrail(context.orgId, context.period, context.memo);

const position = (entry: Pick<TrailEntry, "chain" | "seq">) => `${entry.chain}#${entry.seq}`;

/** What a report carries to find the latest checkpoint next time without listing the whole series. */
type CheckpointCarry = { number: number };
type LatestCheckpoint = { object: CheckpointObject; signed?: SignedCheckpoint } | undefined;

const checkpointKeyOf = (orgId: string, number: number) =>
  `${orgId}/checkpoints/${String(Math.max(0, number)).padStart(12, "0")}.json`;

/**
 * The org's newest checkpoint object. With the number a previous report saw, the listing starts there
 * (checkpoints are numbered and never removed): only the checkpoints written since are listed.
 */
async function findLatestCheckpoint(orgId: string, carried?: CheckpointCarry): Promise<LatestCheckpoint> {
  const list = async (afterKey?: string) => {
    let newest: CheckpointObject | undefined;
    for await (const object of checkpointObjects(orgId, afterKey)) newest = object;
    return newest;
  };
  const object =
    (carried &&
      Number.isInteger(carried.number) &&
      (await list(checkpointKeyOf(orgId, carried.number - 1)))) ||
    (await list());
  if (!object) return undefined;
  const signed = object.deleted ? undefined : await readCheckpointVersion(object);
  return { object, ...(signed && { signed }) };
}

const latestCheckpointOf = (context: CheckContext) =>
  context.memo("latest-checkpoint", () => {
    // Shared by several checks: what the freshness check carried, whichever check asks first.
    const carried = context.previous?.carry["audit.checkpoint-fresh"] as CheckpointCarry | undefined;
    return findLatestCheckpoint(context.orgId, carried);
  });

/**
 * The verification from the newest checkpoint (its signature checked, its pinned heads the start): the
 * work is the entries written since. With no checkpoint at all there is nothing to start from but genesis.
 * `pinned`: where it started on each chain (it read every entry above).
 */
const verificationOf = (context: CheckContext) =>
  context.memo("verification-from-latest", async () => {
    const latest = await latestCheckpointOf(context);
    const report = await verifyOrg(context.orgId, latest ? latest.object.number : "genesis");
    const pinned = new Map(latest?.signed?.checkpoint.heads.map((head) => [head.chain, head.seq]));
    return { report, pinned };
  });

function verificationEvidence(report: OrgVerification): Evidence {
  const problem = report.entryProblem ?? report.checkpointProblem ?? report.indexProblem;
  return {
    intact: report.intact,
    fromCheckpoint: report.fromCheckpoint,
    entriesVerified: report.entries,
    chains: report.chains.length,
    checkpointsRead: report.checkpoints,
    ...(problem && {
      problem: "problem" in problem ? problem.problem : "unknown",
      ...("chain" in problem && problem.chain && { problemChain: problem.chain }),
      ...("seq" in problem && { problemSeq: problem.seq }),
      ...("checkpoint" in problem && { problemCheckpoint: problem.checkpoint }),
    }),
  };
}

/** Items of the org's chains right after each pinned head: the oldest entry each checkpoint does not cover yet. */
async function firstUnpinned(orgId: string, pinned: ReadonlyMap<string, number>, chains: number) {
  const keys = Array.from({ length: chains }, (_, shard) => {
    const chain = chainId(orgId, shard);
    return { pk: chain, seq: (pinned.get(chain) ?? 0) + 1 };
  });
  return batchGet<{ pk: string; seq: number; time?: string }>(getConfig().TABLE_AUDIT, keys);
}

/** The entries among these whose disclosure pointer (one per client named) is missing or aims elsewhere. */
async function missingPointers(orgId: string, entries: readonly TrailEntry[]): Promise<TrailEntry[]> {
  const wanted = entries.flatMap((entry) =>
    entry.clients.map((clientId) => ({
      entry,
      key: { pk: disclosurePartition(orgId, clientId), sk: entry.at },
    })),
  );
  const found = new Set<string>();
  const batches: (typeof wanted)[] = [];
  for (let start = 0; start < wanted.length; start += 100) batches.push(wanted.slice(start, start + 100));
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < batches.length; index = next++) {
      const pointers = await batchGet<{ pk: string; sk: string; chain?: unknown; seq?: unknown }>(
        getConfig().TABLE_RECORDS,
        (batches[index] ?? []).map((want) => want.key),
      );
      for (const pointer of pointers)
        found.add(`${pointer.pk}\n${pointer.sk}\n${String(pointer.chain)}#${String(pointer.seq)}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(POINTER_READS, batches.length) }, worker));
  return [
    ...new Set(
      wanted
        .filter(({ entry, key }) => !found.has(`${key.pk}\n${key.sk}\n${position(entry)}`))
        .map(({ entry }) => entry),
    ),
  ];
}

export const auditChecks: readonly CheckDefinition[] = [
  {
    id: "audit.chain-verifies",
    title: "The audit chains verify from the latest signed checkpoint to their heads",
    hipaa: "164.312(b)",
    layer: "application",
    severity: "critical",
    weight: 3,
    remediation:
      "Treat as a security incident: the audit trail was altered. Run GET /audit/verify from genesis to locate the first altered entry, preserve the table's backups and CloudTrail for the period, and follow the incident response procedure.",
    evaluate: async (context) => {
      const { report } = await verificationOf(context);
      const evidence = verificationEvidence(report);
      return report.intact ? passed(evidence) : failed(evidence);
    },
  },
  {
    id: "audit.checkpoint-fresh",
    title: "A signed checkpoint pins every audit entry older than an hour",
    hipaa: "164.312(c)(2)",
    layer: "application",
    severity: "high",
    weight: 2,
    remediation:
      "Check the auditCheckpoint job (EventBridge, every 5 minutes): its errors and alarms in CloudWatch, the signing key's state in KMS and the checkpoint bucket's policy. Run it once by hand (npm run audit:checkpoint locally) and confirm a new checkpoint appears.",
    evaluate: async (context) => {
      const latest = await latestCheckpointOf(context);
      const signed = latest?.signed;
      const cutoff = context.now.getTime() - CHECKPOINT_MAX_LAG_MS;
      const pinned = new Map(signed?.checkpoint.heads.map((head) => [head.chain, head.seq]));
      const chains = shardsToCover(signed ? [signed] : []);
      const unpinned = await firstUnpinned(context.orgId, pinned, chains);
      // A quiet org is not checkpointed again (nothing moved): stale only if an entry older than the bound is unpinned.
      const stale = unpinned.filter((item) => !item.time || Date.parse(item.time) < cutoff);
      const problem =
        latest &&
        checkpointProblem(
          context.orgId,
          latest.object,
          signed,
          await configuredSigningKeys(),
          undefined,
          false,
        );
      const evidence: Evidence = {
        latestCheckpoint: latest?.object.number ?? null,
        checkpointTime: signed ? evidenceText(signed.checkpoint.time) : null,
        maxLagMinutes: CHECKPOINT_MAX_LAG_MS / MINUTE_MS,
        chains,
        chainsWithUnpinnedEntries: unpinned.length,
        chainsStale: stale.length,
        staleChains: stale.slice(0, LISTED).map((item) => item.pk),
        ...(problem && { checkpointProblem: problem.problem }),
      };
      const carry: CheckpointCarry | undefined = latest && { number: latest.object.number };
      if (problem || stale.length > 0) return failed(evidence, undefined, carry);
      // No checkpoint and nothing to checkpoint yet: nothing vouches for anything (not a pass).
      if (!latest && unpinned.length === 0)
        return notApplicable("The org has no audit entries to checkpoint yet.");
      return passed(evidence, carry);
    },
  },
  {
    id: "audit.witness-healthy",
    title: "The live audit witness keeps up with every chain and recorded no break in the period",
    hipaa: "164.312(b)",
    layer: "application",
    severity: "high",
    weight: 2,
    remediation:
      "A recorded break: treat as a security incident (an audit item did not fit its chain; the AUDIT_CHAIN_BROKEN log names where). A witness behind: check the auditWitness stream function's iterator age and errors in CloudWatch and its event source mapping.",
    evaluate: async (context) => {
      const { orgId, now, period } = context;
      const latest = await latestCheckpointOf(context);
      const chains = Array.from(
        { length: shardsToCover(latest?.signed ? [latest.signed] : []) },
        (_, shard) => chainId(orgId, shard),
      );
      const [records, heads] = await Promise.all([
        witnessedChains(chains),
        Promise.all(chains.map(async (chain) => ({ chain, ...(await chainHead(chain)) }))),
      ]);
      const byChain = new Map(records.map((record) => [record.chain, record]));
      const behind = heads.filter((head) => head.seq > (byChain.get(head.chain)?.seq ?? 0));
      // The oldest entry the witness has not recorded, per chain behind: late only past the bound.
      const unseen = await batchGet<{ pk: string; seq: number; time?: string }>(
        getConfig().TABLE_AUDIT,
        behind.map((head) => ({ pk: head.chain, seq: (byChain.get(head.chain)?.seq ?? 0) + 1 })),
      );
      const cutoff = now.getTime() - WITNESS_MAX_LAG_MS;
      const late = unseen.filter((item) => !item.time || Date.parse(item.time) < cutoff);
      const broken = records.filter((record) => record.broken);
      const brokenInPeriod = broken.filter((record) => !record.brokenAt || record.brokenAt >= period.from);
      const seenAt = records
        .map((record) => record.seenAt)
        .filter((time): time is string => Boolean(time))
        .sort()
        .at(-1);
      const evidence: Evidence = {
        chains: chains.length,
        chainsWithEntries: heads.filter((head) => head.seq > 0).length,
        chainsWitnessed: records.filter((record) => record.seq !== undefined).length,
        lastHeadRecordedAt: seenAt ? evidenceText(seenAt) : null,
        maxLagMinutes: WITNESS_MAX_LAG_MS / MINUTE_MS,
        chainsBehind: late.length,
        breaksInPeriod: brokenInPeriod.length,
        breaksBeforePeriod: broken.length - brokenInPeriod.length,
        brokenChains: brokenInPeriod.slice(0, LISTED).map((record) => record.chain),
      };
      return late.length === 0 && brokenInPeriod.length === 0 ? passed(evidence) : failed(evidence);
    },
  },
  {
    id: "audit.daily-verification",
    title: "The daily verification of the whole audit trail from genesis ran and passed within 48 hours",
    hipaa: "164.312(c)(1)",
    layer: "application",
    severity: "high",
    weight: 2,
    remediation:
      "Check the verifyAuditDaily job (EventBridge, daily) and the verifyAudit runs it starts: their errors and AUDIT_NOT_INTACT / AUDIT_VERIFICATION_FAILED events. A run that found the trail not intact is a security incident; start one by hand with GET /audit/verify?from=genesis.",
    evaluate: async ({ orgId, now }) => {
      const since = new Date(now.getTime() - DAILY_VERIFICATION_MAX_AGE_MS).toISOString();
      // The daily job's own entries (byActor index): each names the verification job it started.
      const { items } = await queryEntries(orgId, {
        actorId: DAILY_VERIFICATION_SERVICE,
        action: "audit.verify",
        from: since,
        to: now.toISOString(),
        limit: 10,
      });
      const jobIds = items.flatMap((item) => (item.hashValid && item.entry ? [item.entry.resource.id] : []));
      const jobs = await Promise.all(
        jobIds.map((jobId) =>
          getRecord<{ state?: string; from?: unknown; finishedAt?: string; report?: { intact?: boolean } }>(
            verificationKey(orgId, jobId),
          ),
        ),
      );
      const finished = jobs.filter(
        (job) => job?.state === "done" && job.from === "genesis" && job.finishedAt && job.finishedAt >= since,
      );
      const newest = finished.sort((a, b) => String(b?.finishedAt).localeCompare(String(a?.finishedAt)))[0];
      const evidence: Evidence = {
        runsStarted: jobIds.length,
        runsFinished: finished.length,
        runsRunning: jobs.filter((job) => job?.state === "running").length,
        runsFailed: jobs.filter((job) => job?.state === "failed").length,
        latestFinishedAt: newest?.finishedAt ? evidenceText(newest.finishedAt) : null,
        latestIntact: newest?.report?.intact ?? null,
        maxAgeHours: DAILY_VERIFICATION_MAX_AGE_MS / HOUR_MS,
      };
      return newest?.report?.intact === true ? passed(evidence) : failed(evidence);
    },
  },
  {
    id: "audit.disclosure-index-complete",
    title: "Every audit entry of the period that named a client has its disclosure pointer",
    hipaa: "164.308(a)(1)(ii)(D)",
    layer: "application",
    severity: "high",
    weight: 2,
    remediation:
      "A pointer missing or re-aimed hides an access from the client's accounting of disclosures: treat as tampering with the records table. Run GET /audit/verify from genesis (it names the first entry whose pointer is missing) and review who could write the records table.",
    evaluate: async (context) => {
      const [trail, verification] = await Promise.all([trailOf(context), verificationOf(context)]);
      // The verification from the checkpoint checked the pointers of every entry above the heads it pinned
      // and keeps the first problem: those entries are read again here only if its first problem is of
      // another kind (which could hide a missing pointer behind it).
      const problem = verification.report.indexProblem;
      const trustVerifier = problem?.problem !== "index-attribute";
      const verified = (entry: TrailEntry) =>
        trustVerifier && entry.seq > (verification.pinned.get(entry.chain) ?? 0);
      const naming = trail.entries.filter((entry) => entry.clients.length > 0 && entry.basis !== undefined); // version 1 entries predate the pointers
      const byVerifier = naming.filter(verified);
      const missing = await missingPointers(
        context.orgId,
        naming.filter((entry) => !verified(entry)),
      );
      const verifierMissing = trustVerifier && problem ? 1 : 0;
      const evidence: Evidence = {
        entriesInPeriod: trail.entries.length,
        entriesNamingClients: naming.length,
        checkedByVerification: byVerifier.length,
        checkedHere: naming.length - byVerifier.length,
        pointersMissing: missing.length + verifierMissing,
        missingAt: [
          ...new Set([
            ...(problem && verifierMissing ? [`${problem.chain}#${problem.seq}`] : []),
            ...missing.map(position),
          ]),
        ].slice(0, LISTED),
      };
      return missing.length + verifierMissing === 0 ? passed(evidence) : failed(evidence);
    },
  },
  {
    id: "audit.phi-access-attributed",
    title: "Every PHI access of the period names its user, role and the relationship it rested on",
    hipaa: "164.312(a)(2)(i)",
    layer: "application",
    severity: "high",
    weight: 2,
    remediation:
      "Find the code path that wrote the listed entries (their action) and make it pass the access decision's relationship to auditEntry; every PHI access must be attributable to one person and the basis the policy granted it on.",
    evaluate: async (context) => {
      const trail = await trailOf(context);
      const accesses = trail.entries.filter(isPhiAccess);
      const unattributed = accesses.filter((entry) => !attributed(entry));
      const evidence: Evidence = {
        phiAccesses: accesses.length,
        byUsers: accesses.filter((entry) => entry.actorType === "user").length,
        byServices: accesses.filter((entry) => entry.actorType === "service").length,
        orgLevelActions: accesses.filter((entry) => entry.action in ORG_LEVEL_PHI_ACTIONS).length,
        unattributed: unattributed.length,
        unattributedActions: [...new Set(unattributed.map((entry) => entry.action))].slice(0, LISTED),
        unattributedAt: unattributed.slice(0, LISTED).map(position),
      };
      return unattributed.length === 0 ? passed(evidence) : failed(evidence);
    },
  },
];

/**
 * Whether a PHI access is attributed: a user's names the user, a role and a relationship other than
 * `none` (or is an org-level action by design); a service's names a job's identity (`job:<id>`).
 */
export function attributed(entry: TrailEntry): boolean {
  if (entry.actorType === "service") return entry.actorId.startsWith("job:");
  if (!entry.actorId || !entry.role || entry.role === "service") return false;
  if (entry.action in ORG_LEVEL_PHI_ACTIONS) return true;
  return (
    entry.basis !== undefined && entry.basis.length > 0 && entry.basis.every((basis) => basis !== "none")
  );
}
