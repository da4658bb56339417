/**
 * The IETF RateLimit header fields as draft-ietf-httpapi-ratelimit-headers-10 (HTTPAPI working group,
 * September 2025) defines them: Structured Field lists whose items are a quoted policy name (sf-string)
 * with parameters. (Revision -11, May 2026, is listed since; its text could not be checked here.)
 *   RateLimit-Policy: "user";q=100;w=60, "org";q=5000;w=60
 *   RateLimit: "user";r=42;t=17, "org";r=4890;t=3
 * `q` is the quota in quota units per `w` seconds; `r` the units left; `t` the seconds until the bucket is
 * full again (on a refusal: the Retry-After, as the draft asks the two to name the same moment).
 *
 * Both policies, not just the tighter one: the policy field then stays the same from response to response
 * (the draft expects it to), and a client sees which limit it is about to meet. The org's figures are
 * counts only, of the caller's own org. The unit is the draft's default, "request", with a write counting
 * as `costs.write` requests and so on (the org's `rateLimits.costs`).
 */
export type PolicyName = "user" | "org";
export type PolicyState = {
  name: PolicyName;
  quota: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
};

export const RATE_LIMIT_HEADERS = ["RateLimit-Policy", "RateLimit"] as const;

export function rateLimitHeaders(policies: readonly PolicyState[]): Record<string, string> {
  if (policies.length === 0) return {};
  return {
    "RateLimit-Policy": policies.map((p) => `"${p.name}";q=${p.quota};w=${p.windowSeconds}`).join(", "),
    RateLimit: policies.map((p) => `"${p.name}";r=${p.remaining};t=${p.resetSeconds}`).join(", "),
  };
}
