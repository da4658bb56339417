import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { inviteUser } from "./service";

export const handler = createHandler(routes.inviteUser, async ({ body, principal, meta }) => ({
  status: 202,
  body: await inviteUser(principal, meta, body),
}));
