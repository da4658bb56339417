import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { listInvites } from "./service";

export const handler = createHandler(routes.listInvites, async ({ principal, query }) => ({
  status: 200,
  body: await listInvites(principal, query),
}));
