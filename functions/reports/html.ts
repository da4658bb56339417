import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { readReportHtml } from "./service";

/** The report's HTML (text/html under the report's own CSP: `RouteSpec.document`). */
export const handler = createHandler(routes.getReportHtml, async ({ principal, path }) => ({
  status: 200,
  body: await readReportHtml(principal, path.reportId),
}));
