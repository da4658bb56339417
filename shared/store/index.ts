export { type ClientRecord, clientKey, loadClient } from "./client-record";
export { decodeCursor, encodeCursor } from "./cursor";
