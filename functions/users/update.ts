import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { updateUser } from "./service";

export const handler = createHandler(routes.updateUser, async ({ path, body, principal, meta }) => {
  const { pending, user } = await updateUser(principal, meta, path.userId, body);
  // 202: the directory changed (and the API acts on it), Cognito has yet to follow (`identitySync`).
  return { status: pending ? 202 : 200, body: user };
});
