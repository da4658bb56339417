import { createHandler } from "../../shared/http/handler";
import { openApiDocument } from "../../shared/http/openapi";
import { routeList, routes } from "../routes";

let document: unknown;

export const handler = createHandler(routes.openapi, async () => {
  document ??= openApiDocument(routeList);
  return { status: 200, body: document };
});
