import type { DynamoDBStreamEvent } from "aws-lambda";
import { detectionBatch, signalObservation } from "../../shared/detection";
import { createStreamHandler, type JobInvocation, processStream } from "../../shared/jobs";

/**
 * The detectors over the security table's stream: every new signal (denials, blocks, failed sign-ins).
 * The table also holds the detectors' own state and findings: those items are never observations.
 */
const batch = () => detectionBatch(signalObservation);

export const run = (event: DynamoDBStreamEvent, job: JobInvocation) =>
  processStream("detectSignals", event, job, batch);

export const handler = createStreamHandler("detectSignals", batch);
