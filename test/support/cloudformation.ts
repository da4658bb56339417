import { vi } from "vitest";

/**
 * CloudFormation's side of a custom resource: a response URL of the form CloudFormation sends (a pre-signed
 * URL of its response bucket, the only kind a job answers: shared/jobs), whose PUTs are recorded here instead
 * of leaving the process. Every other request goes through.
 */
export function cloudFormationResponses() {
  const url =
    "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation%3Aus-east-1/request?X-Amz-Signature=test";
  const answers: Record<string, unknown>[] = [];
  const original = globalThis.fetch;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    if (String(input) !== url) return original(input, init);
    answers.push({ method: init?.method, ...JSON.parse(String(init?.body)) });
    return new Response(null, { status: 200 });
  });
  return { url, answers, close: () => spy.mockRestore() };
}
