import { createHandler } from "../../shared/http/handler";
import { liftBlock } from "../../shared/protection";
import { routes } from "../routes";

export const handler = createHandler(routes.unblockUser, async ({ path, principal, meta }) => {
  await liftBlock(principal, meta, path.userId);
  return { status: 204 };
});
