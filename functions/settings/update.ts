import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { updateSettings } from "./service";

export const handler = createHandler(routes.updateSettings, async ({ body, principal, meta }) => ({
  status: 200,
  body: await updateSettings(principal, meta, body),
}));
