export { type Chunk, DETECT_PHI_MAX_BYTES, splitForDetection } from "./chunks";
export { detectPhiViaComprehend, phiSummary, redact } from "./comprehend";
export { type PhiEntity, type PhiType, resolveOverlaps } from "./entities";
