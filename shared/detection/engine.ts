import type { SecurityEvent } from "../security/events";
import type { TenantSettings } from "../settings/schema";
import { addDays, localTime } from "./clock";
import { type Baselines, baselines, isExcessive, member, type Tally, tally } from "./evaluate";
import type { Observation } from "./observations";
import { RULES, type Rule, type Selection } from "./rules";
import type { DetectorState, StateKey, StateRecord } from "./state";

/**
 * The engine: runs every rule of `RULES` over one observation against the detector state and raises what
 * they find. The same code serves the live stream jobs (state in DynamoDB) and the benchmark (state in
 * memory). Safe under retries: every count is a set of members (a retried observation adds nothing) and
 * every finding carries a deterministic dedupe key (raised once, whoever raises it again).
 */
export type AccountStatus = {
  active: boolean /** ISO time of the directory's last change to the account. */;
  since: string;
};

export type DetectionPorts = {
  state: DetectorState;
  /** The org's settings; `undefined` for what no org is known for (the platform's). */
  settings: (orgId: string | undefined) => Promise<TenantSettings>;
  /** The directory's view of an account (undefined: no such user). */
  account: (orgId: string, userId: string) => Promise<AccountStatus | undefined>;
  raise: (event: SecurityEvent) => Promise<unknown>;
  /** Epoch milliseconds: the time a finding is raised at. */
  now: () => number;
};

/** Baselines (earlier days only, so fixed for the day) per state, org, rule and day: one range read a day. */
const BASELINES_REMEMBERED = 1000;
const remembered = new WeakMap<DetectorState, Map<string, (userId: string) => Baselines>>();

/** Days of history a baseline is the mean of. */
export const BASELINE_DAYS = 14;
const DAY_SECONDS = 86_400;
const HOUR_MS = 3_600_000;

/** Where the detectors keep an org's counts (the platform's for what no org is known for). */
export const detectorPartition = (orgId: string | undefined) =>
  orgId ? `ORG#${orgId}#DETECT` : "PLATFORM#DETECT";
/** The set a `baseline` rule counts a subject's members in, per the org's local day. */
export const baselineSetKey = (ruleId: string, day: string, subject: string) =>
  `C#${ruleId}#${day}#${subject}`;
/**
 * Whose the counts and the finding are: the observation's org, except for an IP, which belongs to no org
 * (a sprayer's 401s carry none, its failed sign-ins may name several): counted and raised platform-wide.
 */
const orgOf = (observation: Observation, rule?: Rule) =>
  rule?.subject === "ip"
    ? undefined
    : observation.source === "audit"
      ? observation.orgId
      : observation.signal.orgId;
const iso = (ms: number) => new Date(ms).toISOString();

type Judged = { tally: Tally; key: string; evidence?: SecurityEvent["evidence"]; clientCount?: number };

/**
 * A detector: the live jobs make one per stream batch, so what it remembers (blocks read, below) is at most
 * one batch old; the benchmark one for the whole run.
 */
export function createDetector(ports: DetectionPorts) {
  const { state } = ports;
  /** Block windows read (or written) by this detector, per state key: one read per user per batch. */
  const blocks = new Map<string, Promise<StateRecord | undefined>>();
  const blockOf = (key: StateKey) => {
    const id = `${key.partition}\n${key.key}`;
    let found = blocks.get(id);
    if (!found) {
      found = state.get(key);
      blocks.set(id, found);
    }
    return found;
  };
  const keepBlock = async (key: StateKey, block: StateRecord, expiresAt: number) => {
    await state.put(key, block, expiresAt);
    blocks.set(`${key.partition}\n${key.key}`, Promise.resolve(block));
  };

  async function dayBaselines(partition: string, rule: Rule, day: string) {
    let byState = remembered.get(state);
    if (!byState) {
      byState = new Map();
      remembered.set(state, byState);
    }
    const memo = `${partition}|${rule.id}|${day}`;
    let found = byState.get(memo);
    if (!found) {
      const prefix = `C#${rule.id}#`;
      found = baselines(
        await state.range(
          partition,
          `${prefix}${addDays(day, -BASELINE_DAYS)}#`,
          `${prefix}${addDays(day, -1)}#~`,
        ),
      );
      byState.set(memo, found);
      if (byState.size > BASELINES_REMEMBERED) byState.delete(byState.keys().next().value as string);
    }
    return found;
  }

  /** Whether the rule's measure says the selection is a finding, with what it counted. */
  async function judge(
    rule: Rule,
    observation: Observation,
    selection: Selection,
    settings: TenantSettings,
  ): Promise<Judged | undefined> {
    const partition = detectorPartition(orgOf(observation, rule));
    const detectors = settings.detectors;
    const at = observation.at;
    const members = selection.members.map((value) => member(at, value));
    const threshold = rule.threshold ? Number(detectors[rule.threshold]) : 1;
    const once: Tally = { count: 1, first: at, last: at };
    switch (rule.measure) {
      case "each":
        return { tally: once, key: selection.grantId ?? observation.id };
      case "hourly":
        return { tally: once, key: iso(Math.floor(at / HOUR_MS) * HOUR_MS).slice(0, 13) };
      case "window": {
        const windowMs = Number(detectors[rule.window as keyof typeof detectors]) * 1000;
        const bucket = Math.floor(at / windowMs);
        const key = (n: number): StateKey => ({ partition, key: `W#${rule.id}#${selection.subject}#${n}` });
        const expiresAt = Math.floor(at / 1000) + (2 * windowMs) / 1000 + DAY_SECONDS;
        const current = await state.add(key(bucket), members, expiresAt);
        const previous = await state.members(key(bucket - 1));
        const counted = tally([...previous, ...current], at - windowMs, at);
        if (counted.count < threshold) return undefined;
        return { tally: counted, key: `${bucket}`, evidence: { windowSeconds: windowMs / 1000 } };
      }
      case "baseline": {
        const day = localTime(at, settings.businessHours.timeZone).day;
        const set = await state.add(
          { partition, key: baselineSetKey(rule.id, day, selection.subject) },
          members,
          Math.floor(at / 1000) + (BASELINE_DAYS + 2) * DAY_SECONDS,
        );
        const counted = tally(set, 0, Number.POSITIVE_INFINITY);
        if (counted.count < threshold) return undefined;
        const baseline = (await dayBaselines(partition, rule, day))(selection.subject);
        if (!isExcessive(counted.count, baseline, detectors)) return undefined;
        return {
          tally: counted,
          key: day,
          clientCount: counted.count,
          evidence: {
            day,
            userBaseline: Math.round(baseline.user * 10) / 10,
            orgBaseline: Math.round(baseline.org * 10) / 10,
            factor: Number(detectors[rule.factor as keyof typeof detectors]),
          },
        };
      }
      case "account": {
        if (observation.source !== "audit") return undefined;
        const account = await ports.account(observation.orgId, selection.subject);
        const disabled = account && !account.active && Date.parse(account.since) <= at;
        const block = await blockOf({ partition, key: `B#${selection.subject}` });
        const blocked = block && Number(block.from) <= at && at < Number(block.until);
        if (!disabled && !blocked) return undefined;
        return {
          tally: once,
          key: localTime(at, settings.businessHours.timeZone).day,
          evidence: { accountState: disabled ? "disabled" : "blocked" },
        };
      }
      case "block": {
        if (observation.source !== "signal") return undefined;
        const key = { partition, key: `B#${selection.subject}` };
        if (observation.signal.kind === "unblocked") {
          const block = await state.get(key);
          if (block && Number(block.from) <= at && at < Number(block.until))
            await keepBlock(
              key,
              { from: Number(block.from), until: at },
              Math.floor(at / 1000) + DAY_SECONDS,
            );
          return undefined;
        }
        const until = at + settings.blocking.blockSeconds * 1000;
        await keepBlock(key, { from: at, until }, Math.floor(until / 1000) + DAY_SECONDS);
        return {
          tally: once,
          key: observation.id,
          evidence: { blockSeconds: settings.blocking.blockSeconds },
        };
      }
    }
  }

  /** Runs every rule over the observation; returns the findings it raised (new or already known). */
  async function observe(observation: Observation): Promise<SecurityEvent[]> {
    const settings = await ports.settings(orgOf(observation));
    const findings: SecurityEvent[] = [];
    for (const rule of RULES) {
      if (rule.observes !== observation.source) continue;
      const selection = rule.select(observation, settings);
      if (!selection) continue;
      const judged = await judge(rule, observation, selection, settings);
      if (!judged) continue;
      const orgId = orgOf(observation, rule);
      const subjectKey = selection.grantId ?? selection.subject;
      const subject: SecurityEvent["subject"] =
        rule.subject === "ip"
          ? { ip: selection.subject }
          : {
              ...(observation.source === "audit" || observation.signal.userId
                ? { userId: selection.subject }
                : {}),
              ...(selection.grantId && { grantId: selection.grantId }),
              ...(judged.clientCount !== undefined && { clientCount: judged.clientCount }),
            };
      const evidence: SecurityEvent["evidence"] = { count: judged.tally.count, ...judged.evidence };
      if (rule.threshold) evidence.threshold = Number(settings.detectors[rule.threshold]);
      evidence.observation = observation.id;
      const event: SecurityEvent = {
        type: rule.event,
        severity: rule.severity,
        ...(orgId && { orgId }),
        at: iso(ports.now()),
        window: { from: iso(judged.tally.first), to: iso(judged.tally.last) },
        subject,
        rule: rule.id,
        evidence,
        dedupeKey: `${rule.dedupeAs ?? rule.id}#${subjectKey}#${judged.key}`,
      };
      await ports.raise(event);
      findings.push(event);
    }
    return findings;
  }

  return { observe };
}
