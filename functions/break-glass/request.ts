import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { requestBreakGlass } from "./service";

export const handler = createHandler(routes.requestBreakGlass, async ({ path, body, principal, meta }) => ({
  status: 201,
  body: await requestBreakGlass(principal, meta, path.clientId, body.reason),
}));
