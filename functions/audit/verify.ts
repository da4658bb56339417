import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { startVerification } from "./service";

export const handler = createHandler(routes.startAuditVerification, async ({ query, principal, meta }) => {
  const status = await startVerification(principal, meta, query?.from);
  // Relative to this route's own URL, so it resolves under whatever stage prefix the API is served.
  return { status: 202, body: status, headers: { Location: `verify/${status.jobId}` } };
});
