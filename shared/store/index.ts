export {
  assignedClientIds,
  assignmentPrefix,
  type ClientRecord,
  clientKey,
  loadClient,
} from "./client-record";
export { type CursorScope, cursorScope, openCursor, type Position, sealCursor } from "./cursor";
export { InvalidCursorError } from "./errors";
export { batchGet, filledPage, pageSize, queryAll, recordsWithPrefix } from "./query";
export { getRecord, versionedPut } from "./records";
export {
  listSessions,
  loadSession,
  type SessionRecord,
  sessionKey,
  type TranscriptObject,
  type TranscriptRecord,
} from "./session-record";
export { readTranscriptObject } from "./transcript-objects";
