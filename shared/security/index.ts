export {
  type Evidence,
  eventId,
  eventPartition,
  raiseSecurityEvent,
  SECURITY_EVENT_TYPES,
  SEVERITIES,
  type SecurityEvent,
  type SecurityEventType,
  type Severity,
} from "./events";
export {
  recordSignal,
  SIGNAL_DAYS,
  SIGNAL_KINDS,
  SIGNAL_SK_PREFIX,
  type Signal,
  type SignalKind,
  signalItem,
  signalPartition,
} from "./signals";
