import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { reviewGrant } from "./service";

export const handler = createHandler(routes.reviewBreakGlass, async ({ path, body, principal, meta }) => ({
  status: 200,
  body: await reviewGrant(principal, meta, path.grantId, body.note),
}));
