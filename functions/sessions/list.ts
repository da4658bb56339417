import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { getSessions } from "./service";

export const handler = createHandler(routes.listSessions, async ({ path, principal, meta }) => ({
  status: 200,
  body: await getSessions(principal, meta, path.clientId),
}));
