export { CURSOR_KEY_CONTEXT, CURSOR_KEY_ITEM, cursorKey, forgetCursorKey } from "./cursor-key";
export {
  type ClientKeyRef,
  dataKeyItemKey,
  forgetDataKey,
  generateDataKey,
  getDataKey,
  rememberDataKey,
} from "./data-keys";
export { type DeploymentKey, deploymentKey, forgetDeploymentKey } from "./deployment-key";
export { DIGEST_KEY_CONTEXT, DIGEST_KEY_ITEM, keyedDigest } from "./digest-key";
export { DataKeyUnavailableError, DecryptionError } from "./errors";
export { type FieldBinding, openBytes, openField, sealBytes, sealField } from "./field-cipher";
export { KeyCache } from "./key-cache";
export { openRecord, type RecordRef, sealRecord } from "./record";
