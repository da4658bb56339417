/** Request parts are validated by the ground floor's Zod-issue mapping (services validate documents with it too). */
export { validatePart } from "../validation";
