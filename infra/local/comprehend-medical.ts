import { detectPhi } from "../../shared/phi/detector";
import { ServiceError, startJsonProtocolServer } from "./json-protocol";

/** Comprehend Medical's DetectPHI, answered by the project's own detector, in the service's JSON protocol. */
const MAX_TEXT_BYTES = 20_000;

export function startLocalComprehendMedical(port: number) {
  return startJsonProtocolServer(
    "ComprehendMedical_20181030",
    {
      DetectPHI: (input) => {
        const text = input.Text;
        if (typeof text !== "string" || text.length === 0)
          throw new ServiceError("InvalidRequestException", "Text");
        if (Buffer.byteLength(text) > MAX_TEXT_BYTES) {
          throw new ServiceError("TextSizeLimitExceededException", "text exceeds 20000 bytes");
        }
        return {
          Entities: detectPhi(text).map((entity, index) => ({
            Id: index,
            BeginOffset: entity.begin,
            EndOffset: entity.end,
            Score: entity.score,
            Text: text.slice(entity.begin, entity.end),
            Category: "PROTECTED_HEALTH_INFORMATION",
            Type: entity.type,
            Traits: [],
          })),
          UnmappedAttributes: [],
          ModelVersion: "coachvault-local-1",
        };
      },
    },
    port,
  );
}
