export { type Chunk, DETECT_PHI_MAX_BYTES, splitForDetection } from "./chunks";
export { type DetectOptions, detectPhiViaComprehend, phiSummary, redact } from "./comprehend";
export { type PhiEntity, type PhiType, resolveOverlaps } from "./entities";
export { type OffsetMap, offsetMap } from "./offsets";
