export { type ClientRecord, clientKey, loadClient } from "./client-record";
export { decodeCursor, encodeCursor } from "./cursor";
export { InvalidCursorError } from "./errors";
export { batchGet, queryAll, recordsWithPrefix } from "./query";
export { getRecord, versionedPut } from "./records";
export {
  listSessions,
  loadSession,
  type SessionRecord,
  sessionKey,
  type TranscriptObject,
  type TranscriptRecord,
} from "./session-record";
