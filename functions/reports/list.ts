import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { listReports } from "./service";

export const handler = createHandler(routes.listReports, async ({ principal, query }) => ({
  status: 200,
  body: await listReports(principal, query ?? {}),
}));
