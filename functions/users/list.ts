import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { listOrgUsers } from "./service";

export const handler = createHandler(routes.listUsers, async ({ principal }) => ({
  status: 200,
  body: await listOrgUsers(principal),
}));
