import { detectPhi } from "../../shared/phi/detector";
import { offsetMap } from "../../shared/phi/offsets";
import { ServiceError, startJsonProtocolServer } from "./json-protocol";

/** Comprehend Medical's DetectPHI, answered by the project's own detector, in the service's JSON protocol. */
const MAX_TEXT_BYTES = 20_000;

/**
 * One DetectPHI answer. The detector works in UTF-16 indices (JavaScript strings); the service counts
 * `BeginOffset`/`EndOffset` in Unicode code points, and so does this answer, so that code reading it
 * is tested against what the service really sends (an emoji before a name moves the two apart).
 */
export function answerDetectPhi(input: Record<string, unknown>) {
  const text = input.Text;
  if (typeof text !== "string" || text.length === 0)
    throw new ServiceError("InvalidRequestException", "Text");
  if (Buffer.byteLength(text) > MAX_TEXT_BYTES) {
    throw new ServiceError("TextSizeLimitExceededException", "text exceeds 20000 bytes");
  }
  const offsets = offsetMap(text);
  return {
    Entities: detectPhi(text).map((entity, index) => ({
      Id: index,
      BeginOffset: offsets.toCodePoint(entity.begin),
      EndOffset: offsets.toCodePoint(entity.end),
      Score: entity.score,
      Text: text.slice(entity.begin, entity.end),
      Category: "PROTECTED_HEALTH_INFORMATION",
      Type: entity.type,
      Traits: [],
    })),
    UnmappedAttributes: [],
    ModelVersion: "coachvault-local-1",
  };
}

export function startLocalComprehendMedical(port: number) {
  return startJsonProtocolServer("ComprehendMedical_20181030", { DetectPHI: answerDetectPhi }, port);
}
