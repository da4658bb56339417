import { createHandler } from "../../shared/http/handler";
import { heldOr } from "../changes/respond";
import { routes } from "../routes";
import { updateUser } from "./service";

export const handler = createHandler(routes.updateUser, async ({ path, body, principal, meta }) => {
  const result = await updateUser(principal, meta, path.userId, body);
  // 202 for a change held for a second person (the pending change), or for a change the directory made
  // (and the API acts on) that Cognito has yet to follow (the user, `identitySync: pending`) or never will
  // (`identitySync: failed`).
  if (!("user" in result)) return heldOr(200, result);
  return { status: result.pending ? 202 : 200, body: result.user };
});
