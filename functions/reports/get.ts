import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { SIGNATURE_HEADERS } from "./schema";
import { readReport } from "./service";

/** The signed report JSON; its signature (the `.sig` document) in the `X-Report-*` headers. */
export const handler = createHandler(routes.getReport, async ({ principal, path }) => {
  const { report, signature } = await readReport(principal, path.reportId);
  return {
    status: 200,
    body: report,
    headers: {
      [SIGNATURE_HEADERS.signature]: signature.signature,
      [SIGNATURE_HEADERS.algorithm]: signature.algorithm,
      [SIGNATURE_HEADERS.keyId]: signature.keyId,
      [SIGNATURE_HEADERS.sha256]: signature.sha256,
    },
  };
});
