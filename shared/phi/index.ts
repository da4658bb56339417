export { detectPhi, type PhiEntity, type PhiType } from "./detector";
