import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { createSession } from "./service";

export const handler = createHandler(routes.createSession, async ({ path, body, principal, meta }) => ({
  status: 201,
  body: await createSession(principal, meta, path.clientId, body),
}));
