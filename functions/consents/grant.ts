import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { grantConsent } from "./service";

export const handler = createHandler(routes.grantConsent, async ({ path, body, principal, meta }) => ({
  status: 200,
  body: await grantConsent(principal, meta, path.clientId, path.purpose, body.version),
}));
