import type { DynamoDBStreamEvent } from "aws-lambda";
import { auditObservation, detectionBatch } from "../../shared/detection";
import { createStreamHandler, type JobInvocation, processStream } from "../../shared/jobs";

/** The detectors over the audit table's stream: every new entry, seconds after it is committed. */
const batch = () => detectionBatch(auditObservation);

export const run = (event: DynamoDBStreamEvent, job: JobInvocation) =>
  processStream("detectAudit", event, job, batch);

export const handler = createStreamHandler("detectAudit", batch);
