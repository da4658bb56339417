import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { updateUser } from "./service";

export const handler = createHandler(routes.updateUser, async ({ path, body, principal, meta }) => ({
  status: 200,
  body: await updateUser(principal, meta, path.userId, body),
}));
