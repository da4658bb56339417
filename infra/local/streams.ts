import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  TrimmedDataAccessException,
} from "@aws-sdk/client-dynamodb-streams";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import type { JobSpec, StreamFilter } from "../../functions/jobs";
import { aws } from "../../shared/aws";
import { logger } from "../../shared/log";
import type { TableName } from "../resources";
import { lambdaContext } from "./lambda-runtime";

/**
 * What Lambda's event source mapping does for a stream job in the cloud, done locally against DynamoDB
 * Local's Streams API with the `dynamoStreams` client: every `intervalMs` it lists the stream's shards
 * (new ones included: a shard is read once its parent is drained), reads each from where it left off,
 * hands the records to the job's handler in the shape Lambda delivers (a DynamoDBStreamEvent), retries
 * from the first record the handler reports failed, and after `retryAttempts` gives the batch up as the
 * cloud would to its on-failure queue (here: an error log line). Positions are kept per job and shard in
 * `stateFile`, so a restarted stack carries on after the last record each job handled. One batch at a time per job, as one Lambda
 * instance would take them.
 */
type StreamJob = JobSpec & { id: string; trigger: Extract<JobSpec["trigger"], { stream: string }> };
type StreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | undefined>;
type Shard = { id: string; parent?: string; iterator?: string; closed: boolean };

export type StreamPollerOptions = {
  jobs: readonly (JobSpec & { id: string })[];
  tables: Record<TableName, string>;
  intervalMs: number;
  functionNamePrefix: string;
  loadHandler: (job: JobSpec & { id: string }) => Promise<StreamHandler>;
  /** Where the last sequence number handled per shard is kept. */
  stateFile: string;
};

const isStreamJob = (job: JobSpec & { id: string }): job is StreamJob => "stream" in job.trigger;

/** A record as Lambda hands it to a function: the same fields, the creation time in epoch seconds. */
export function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const { ApproximateCreationDateTime, ...change } = record.dynamodb ?? {};
  const { userIdentity, ...rest } = record;
  return {
    ...(rest as DynamoDBRecord),
    eventSourceARN: streamArn,
    ...(userIdentity && { userIdentity: { type: userIdentity.Type, principalId: userIdentity.PrincipalId } }),
    dynamodb: {
      ...(change as DynamoDBRecord["dynamodb"]),
      ...(ApproximateCreationDateTime && {
        ApproximateCreationDateTime: Math.floor(ApproximateCreationDateTime.getTime() / 1000),
      }),
    },
  };
}

/**
 * The job that read the local streams before positions were kept per job (the witness, then the only
 * stream job): positions saved then (`<streamArn>|<shardId>`) are its own. It carries on from there once;
 * every other job starts from the oldest record kept, as a new event source mapping does in the cloud.
 */
export const LEGACY_POSITION_OWNER = "auditWitness";

/** Where a job left off in a shard (undefined: from the oldest record), a position of the old layout migrated. */
export function positionOf(
  positions: Readonly<Record<string, string>>,
  jobId: string,
  streamArn: string,
  shardId: string,
): string | undefined {
  return (
    positions[`${jobId}|${streamArn}|${shardId}`] ??
    (jobId === LEGACY_POSITION_OWNER ? positions[`${streamArn}|${shardId}`] : undefined)
  );
}

/** Whether a record passes a job's stream filter, as the cloud's event source mapping decides it. */
export function passesStreamFilter(filter: StreamFilter | undefined, record: StreamRecord): boolean {
  if (!filter) return true;
  if (filter.eventName && !filter.eventName.includes(record.eventName as "INSERT")) return false;
  if (filter.skPrefix !== undefined && !record.dynamodb?.Keys?.sk?.S?.startsWith(filter.skPrefix))
    return false;
  return true;
}

class JobStream {
  readonly #shards = new Map<string, Shard>();
  #streamArn?: string;

  constructor(
    readonly job: StreamJob,
    readonly options: StreamPollerOptions,
    readonly positions: Record<string, string>,
    readonly savePositions: () => void,
  ) {}

  async #discover() {
    if (!this.#streamArn) {
      const table = this.options.tables[this.job.trigger.stream as TableName];
      const described = await aws("dynamo").send(new DescribeTableCommand({ TableName: table }));
      this.#streamArn = described.Table?.LatestStreamArn;
      if (!this.#streamArn) throw new Error(`table ${table} has no stream`);
    }
    let start: string | undefined;
    do {
      const out = await aws("dynamoStreams").send(
        new DescribeStreamCommand({ StreamArn: this.#streamArn, ExclusiveStartShardId: start }),
      );
      for (const shard of out.StreamDescription?.Shards ?? []) {
        const id = shard.ShardId as string;
        if (!this.#shards.has(id)) this.#shards.set(id, { id, parent: shard.ParentShardId, closed: false });
      }
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
  }

  /**
   * Where this job is in a shard: per job, since two jobs may read one stream (the witness and the
   * detectors on the audit table), each from its own position, as each event source mapping does.
   */
  #positionKey(shard: Shard) {
    return `${this.job.id}|${this.#streamArn}|${shard.id}`;
  }

  /** A shard is read after its parent is drained (records of one key stay in order across a split). */
  #ready(shard: Shard) {
    const parent = shard.parent ? this.#shards.get(shard.parent) : undefined;
    return !shard.closed && (!parent || parent.closed);
  }

  async #iterator(shard: Shard) {
    const after = positionOf(this.positions, this.job.id, this.#streamArn as string, shard.id);
    const out = await aws("dynamoStreams").send(
      new GetShardIteratorCommand({
        StreamArn: this.#streamArn,
        ShardId: shard.id,
        ...(after
          ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: after }
          : { ShardIteratorType: "TRIM_HORIZON" }),
      }),
    );
    return out.ShardIterator;
  }

  /** Reads every ready shard until it has nothing more for now. */
  async poll() {
    await this.#discover();
    for (const shard of this.#shards.values()) {
      while (this.#ready(shard)) {
        shard.iterator ??= await this.#iterator(shard);
        if (!shard.iterator) {
          shard.closed = true;
          break;
        }
        let out: GetRecordsCommandOutput;
        try {
          out = await this.read(shard.iterator);
        } catch (error) {
          if (!(error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException))
            throw error;
          shard.iterator = undefined;
          continue;
        }
        const records = out.Records ?? [];
        if (records.length > 0) {
          // Filtered-out records are passed over (their position too), as the cloud's mapping does.
          const passed = records.filter((record) => passesStreamFilter(this.job.trigger.filter, record));
          if (passed.length > 0) await this.#deliver(passed);
          this.positions[this.#positionKey(shard)] = records.at(-1)?.dynamodb?.SequenceNumber as string;
          delete this.positions[`${this.#streamArn}|${shard.id}`];
          this.savePositions();
        }
        shard.iterator = out.NextShardIterator;
        if (!shard.iterator) shard.closed = true;
        if (records.length < this.job.trigger.batchSize) break;
      }
    }
  }

  read(iterator: string) {
    return aws("dynamoStreams").send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: this.job.trigger.batchSize }),
    );
  }

  /** Hands a batch to the handler; retries from the first failed record, then gives the rest up. */
  async #deliver(batch: StreamRecord[]) {
    const handler = await this.options.loadHandler(this.job);
    let records = batch;
    for (let attempt = 0; attempt <= this.job.trigger.retryAttempts; attempt++) {
      const event = { Records: records.map((record) => toLambdaRecord(record, this.#streamArn as string)) };
      const context = lambdaContext(
        `${this.options.functionNamePrefix}${this.job.id}`,
        randomUUID(),
        this.job.timeoutSeconds * 1000,
      );
      let failed: string | undefined;
      try {
        const response = await handler(event, context);
        failed = response?.batchItemFailures[0]?.itemIdentifier;
      } catch {
        failed = records[0]?.dynamodb?.SequenceNumber;
      }
      if (failed === undefined) return;
      const from = records.findIndex((record) => record.dynamodb?.SequenceNumber === failed);
      records = records.slice(Math.max(0, from));
    }
    logger.error("local stream: batch given up after retries (the on-failure queue in the cloud)", {
      job: this.job.id,
      first: records[0]?.dynamodb?.SequenceNumber,
      last: records.at(-1)?.dynamodb?.SequenceNumber,
    });
  }
}

export async function startStreamPoller(options: StreamPollerOptions) {
  const positions: Record<string, string> = existsSync(options.stateFile)
    ? (JSON.parse(readFileSync(options.stateFile, "utf8")) as Record<string, string>)
    : {};
  const savePositions = () => writeFileSync(options.stateFile, JSON.stringify(positions));
  const streams = options.jobs
    .filter(isStreamJob)
    .map((job) => new JobStream(job, options, positions, savePositions));
  // Each job polls on its own, as each event source mapping reads its stream on its own in the cloud: the
  // witness never waits behind a detector working off a backlog.
  let stopped = false;
  const timers = new Map<JobStream, NodeJS.Timeout>();
  const running = new Map<JobStream, Promise<void>>();
  const tick = (stream: JobStream) => {
    const run = (async () => {
      try {
        await stream.poll();
      } catch (error) {
        logger.error("local stream poll failed", { job: stream.job.id, error });
      }
    })();
    running.set(stream, run);
    run.finally(() => {
      if (!stopped)
        timers.set(
          stream,
          setTimeout(() => tick(stream), options.intervalMs),
        );
    });
  };
  for (const stream of streams) tick(stream);
  return {
    close: async () => {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      await Promise.all(running.values());
    },
  };
}
