import { createHandler } from "../../shared/http/handler";
import { heldOr } from "../changes/respond";
import { routes } from "../routes";
import { updateUser } from "./service";

export const handler = createHandler(routes.updateUser, async ({ path, body, principal, meta }) =>
  heldOr(200, await updateUser(principal, meta, path.userId, body)),
);
