import { type DeploymentKey, deploymentKey, forgetDeploymentKey } from "./deployment-key";

/**
 * The key that seals list cursors: one per deployment (`deployment-key.ts`), under encryption context
 * `{ purpose: "list-cursor" }`, its wrapped copy in the keys table's `DEPLOYMENT#LIST_CURSOR_KEY` item.
 */
export const CURSOR_KEY_CONTEXT = { purpose: "list-cursor" } as const;
export const CURSOR_KEY_ITEM = { pk: "DEPLOYMENT#LIST_CURSOR_KEY" } as const;
const CURSOR_KEY: DeploymentKey = { context: CURSOR_KEY_CONTEXT, item: CURSOR_KEY_ITEM };

export const cursorKey = () => deploymentKey(CURSOR_KEY);

export const forgetCursorKey = () => forgetDeploymentKey(CURSOR_KEY);
