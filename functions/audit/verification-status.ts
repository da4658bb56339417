import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { getVerification } from "./service";

export const handler = createHandler(routes.getAuditVerification, async ({ path, principal, meta }) => ({
  status: 200,
  body: await getVerification(principal, meta, path.jobId),
}));
