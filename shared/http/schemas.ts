import * as z from "zod";

/** The error body every non-2xx response has. */
export const ErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    requestId: z.string(),
    details: z.array(z.object({ field: z.string(), rule: z.string() })).optional(),
  }),
});
