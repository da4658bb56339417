import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { createClient } from "./service";

export const handler = createHandler(routes.createClient, async ({ body, principal, meta }) => ({
  status: 201,
  body: await createClient(principal, meta, body),
}));
