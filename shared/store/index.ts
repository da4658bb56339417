export { decodeCursor, encodeCursor } from "./cursor";
