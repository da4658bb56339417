import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { revokeConsent } from "./service";

export const handler = createHandler(routes.revokeConsent, async ({ path, principal, meta }) => ({
  status: 200,
  body: await revokeConsent(principal, meta, path.clientId, path.purpose),
}));
