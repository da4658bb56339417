import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { requestReport } from "./service";

export const handler = createHandler(routes.requestReport, async ({ principal, meta }) => {
  const { reportId } = await requestReport(principal, meta);
  // Relative to this route's own URL, so it resolves under whatever stage prefix the API is served.
  return { status: 202, body: { reportId, status: "pending" }, headers: { Location: `reports/${reportId}` } };
});
