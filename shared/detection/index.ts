/**
 * Security monitoring: detectors as data (`rules.ts`) run by one engine (`engine.ts`) over audit entries and
 * security signals, with their counts in a state port (DynamoDB live, memory in the benchmark).
 */
export { addDays, type LocalTime, localTime } from "./clock";
export { DynamoState } from "./dynamo-state";
export {
  type AccountStatus,
  BASELINE_DAYS,
  baselineSetKey,
  createDetector,
  type DetectionPorts,
  detectorPartition,
} from "./engine";
export { baselines, isExcessive, member, tally, withinBusinessHours } from "./evaluate";
export { detectionBatch } from "./live";
export {
  type AuditObservation,
  auditObservation,
  type Observation,
  type SignalObservation,
  signalObservation,
} from "./observations";
export { type DetectorKey, type Measure, RULES, type Rule, type Selection } from "./rules";
export { type DetectorState, MemoryState, SET_CAP, type StateKey, type StateRecord } from "./state";
