import { CfnWebACL } from "aws-cdk-lib/aws-wafv2";
import type { Construct } from "constructs";
import { PayloadTooLargeError } from "../../shared/http/errors";
import { bodyLimitBytes, type RouteSpec } from "../../shared/http/route";
import { edgeResponseHeaders } from "../../shared/http/security-headers";

type Route = RouteSpec & { id: string };
/** A WAF rule statement as CloudFormation takes it (the L1 types leave most of it `any`). */
export type Statement = Record<string, unknown>;

/**
 * How much of a body API Gateway forwards to WAF (the web ACL's AssociationConfig: 16 KB unless raised,
 * 64 KB at most, each 16 KB beyond the first billed). Raised to the most, so that the default body limit
 * is checked on the body itself and the managed body rules see a whole note.
 */
export const WAF_BODY_INSPECTION = { setting: "KB_64", bytes: 64 * 1024 } as const;

/** The web ACL's capacity budget (WCU): what a web ACL may use at the base price. */
export const WAF_CAPACITY_BUDGET = 1500;

/**
 * How each rule of the managed groups applies here (the groups' latest static versions, as the AWS WAF
 * developer guide lists them; a rule AWS adds later acts as AWS set it and answers WAF's plain 403 until
 * it is listed here):
 * - `block`: blocks, with the API's error body and headers.
 * - `count`: only counted and labelled. `SizeRestrictions_BODY` (every body over 8 KB) gives way to the
 *   per-route size rules derived from the manifest.
 * - `freeText`: blocks, except on routes whose body is PHI free text (notes, transcripts, client fields,
 *   a break-glass reason): counted in the group, then blocked by a rule on its label that exempts those
 *   routes. Coaching notes and transcripts are prose that legitimately contains what these rules look
 *   for ("<3", "</br>", "../", "select … from … where", quotes and dashes, a pasted link to an IP); a
 *   false positive would refuse a clinical record. What the rules guard against does not exist behind
 *   those routes: the API answers JSON only (CSP `default-src 'none'`, nosniff), renders no HTML, builds
 *   no SQL (DynamoDB), includes no files and fetches no URLs; bodies are validated by strict schemas and
 *   stored encrypted. On those routes the matches stay visible as counts and labels in WAF's metrics.
 * Body rules kept blocking everywhere: EC2MetaDataSSRF_BODY, JavaDeserializationRCE_BODY and Log4JRCE_BODY
 * look for exploit strings (the metadata address, `java.lang.Runtime`, `${jndi:`) that no coaching text
 * contains, so they cost nothing in false positives.
 */
type RuleUse = "block" | "count" | "freeText";
export const MANAGED_RULE_GROUPS: readonly {
  name: string;
  labelNamespace: string;
  rules: Readonly<Record<string, RuleUse>>;
}[] = [
  {
    name: "AWSManagedRulesCommonRuleSet",
    labelNamespace: "awswaf:managed:aws:core-rule-set",
    rules: {
      NoUserAgent_HEADER: "block",
      UserAgent_BadBots_HEADER: "block",
      SizeRestrictions_QUERYSTRING: "block",
      SizeRestrictions_Cookie_HEADER: "block",
      SizeRestrictions_BODY: "count",
      SizeRestrictions_URIPATH: "block",
      EC2MetaDataSSRF_BODY: "block",
      EC2MetaDataSSRF_COOKIE: "block",
      EC2MetaDataSSRF_URIPATH: "block",
      EC2MetaDataSSRF_QUERYARGUMENTS: "block",
      GenericLFI_QUERYARGUMENTS: "block",
      GenericLFI_URIPATH: "block",
      GenericLFI_BODY: "freeText",
      RestrictedExtensions_URIPATH: "block",
      RestrictedExtensions_QUERYARGUMENTS: "block",
      GenericRFI_QUERYARGUMENTS: "block",
      GenericRFI_BODY: "freeText",
      GenericRFI_URIPATH: "block",
      CrossSiteScripting_COOKIE: "block",
      CrossSiteScripting_QUERYARGUMENTS: "block",
      CrossSiteScripting_BODY: "freeText",
      CrossSiteScripting_URIPATH: "block",
    },
  },
  {
    name: "AWSManagedRulesKnownBadInputsRuleSet",
    labelNamespace: "awswaf:managed:aws:known-bad-inputs",
    rules: {
      JavaDeserializationRCE_HEADER: "block",
      JavaDeserializationRCE_BODY: "block",
      JavaDeserializationRCE_URIPATH: "block",
      JavaDeserializationRCE_QUERYSTRING: "block",
      Host_localhost_HEADER: "block",
      PROPFIND_METHOD: "block",
      ExploitablePaths_URIPATH: "block",
      Log4JRCE_HEADER: "block",
      Log4JRCE_QUERYSTRING: "block",
      Log4JRCE_BODY: "block",
      Log4JRCE_URIPATH: "block",
    },
  },
  {
    name: "AWSManagedRulesSQLiRuleSet",
    labelNamespace: "awswaf:managed:aws:sql-database",
    rules: {
      SQLi_QUERYARGUMENTS: "block",
      SQLiExtendedPatterns_QUERYARGUMENTS: "block",
      SQLi_BODY: "freeText",
      SQLiExtendedPatterns_BODY: "freeText",
      SQLi_COOKIE: "block",
      SQLi_URIPATH: "block",
    },
  },
  {
    // AWSManagedIPDDoSList counts by default and is left so.
    name: "AWSManagedRulesAmazonIpReputationList",
    labelNamespace: "awswaf:managed:aws:amazon-ip-list",
    rules: { AWSManagedIPReputationList: "block", AWSManagedReconnaissanceList: "block" },
  },
];

/** The label a managed body rule adds (`CrossSiteScripting_BODY` → `…:CrossSiteScripting_Body`). */
export const ruleLabel = (namespace: string, rule: string) =>
  `${namespace}:${rule.replace(/_BODY$/, "_Body")}`;

/** Routes whose body is PHI free text: every route that writes PHI from its body. */
export const freeTextRoutes = (routes: readonly Route[]) =>
  routes.filter((route) => route.request?.body !== undefined && route.phi?.writes !== undefined);

const NONE = [{ priority: 0, type: "NONE" }];
const anyOf = (statements: Statement[]): Statement =>
  statements.length === 1 ? (statements[0] as Statement) : { orStatement: { statements } };
const allOf = (statements: Statement[]): Statement =>
  statements.length === 1 ? (statements[0] as Statement) : { andStatement: { statements } };
const not = (statement: Statement): Statement => ({ notStatement: { statement } });
const methodIs = (method: string): Statement => ({
  byteMatchStatement: {
    fieldToMatch: { method: {} },
    positionalConstraint: "EXACTLY",
    searchString: method,
    textTransformations: NONE,
  },
});
const regexOn = (
  fieldToMatch: Statement,
  regexString: string,
  textTransformations: typeof NONE = NONE,
): Statement => ({
  regexMatchStatement: { fieldToMatch, regexString, textTransformations },
});
/**
 * Paths are matched URL-decoded (`/clients/%61…` is `/clients/a…`), as API Gateway routes them, so an
 * encoded path cannot slip past its route's size rule. (Each transformation costs 10 WCU per statement.)
 */
const DECODED = [{ priority: 0, type: "URL_DECODE" }];
const labelIs = (key: string): Statement => ({ labelMatchStatement: { scope: "LABEL", key } });

/**
 * WAF's longest regular expression, and the alternatives put in one (WAF refuses "a large number of |
 * branches per pattern" without saying how many; capturing groups it refuses outright, hence `(?:…)`).
 */
export const MAX_REGEX_LENGTH = 512;
export const MAX_REGEX_ALTERNATIVES = 10;

/** A route template as a path expression: `/clients/{clientId}` → `/clients/[^/]+`. */
const pathPattern = (path: string) =>
  path
    .split("/")
    .map((part) => (/^\{\w+\}$/.test(part) ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");

/**
 * Requests to any of `routes`: by method, then by path. On the execute-api URL the path WAF sees starts
 * with the stage; through a custom domain without a base path it does not: both match.
 */
export function routesStatement(stage: string, routes: readonly Route[]): Statement {
  const methods = [...new Set(routes.map((route) => route.method))].sort();
  return anyOf(
    methods.map((method) => {
      const patterns = routes
        .filter((route) => route.method === method)
        .map((route) => pathPattern(route.path));
      const wrap = (alternatives: string[]) => `^(?:/${stage})?(?:${alternatives.join("|")})/?$`;
      const chunks: string[][] = [];
      for (const pattern of patterns) {
        const last = chunks.at(-1);
        const fits =
          last && last.length < MAX_REGEX_ALTERNATIVES && wrap([...last, pattern]).length <= MAX_REGEX_LENGTH;
        if (last && fits) last.push(pattern);
        else chunks.push([pattern]);
      }
      return allOf([
        methodIs(method),
        anyOf(chunks.map((chunk) => regexOn({ uriPath: {} }, wrap(chunk), DECODED))),
      ]);
    }),
  );
}

/** A regular expression matching exactly the decimal integers greater than `limit` (leading zeros allowed). */
export function greaterThanPattern(limit: number): string {
  const digits = String(limit);
  const alternatives = [`[1-9]\\d{${digits.length},}`];
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[i]);
    const rest = digits.length - i - 1;
    if (digit < 9)
      alternatives.push(`${digits.slice(0, i)}[${digit + 1}-9]${rest > 0 ? `\\d{${rest}}` : ""}`);
  }
  return `^0*(?:${alternatives.join("|")})$`;
}

/**
 * A body over `limit` bytes. Up to what WAF inspects it measures the body itself (a body beyond the
 * inspection size is over the limit too: oversize matches). Beyond that WAF cannot see the body, only
 * the length the request declares: the rule checks `Content-Length`. A request without one (chunked)
 * is not checked by WAF; API Gateway caps every payload at 10 MB and the function enforces the limit
 * on the body it receives (`shared/http/json-body.ts`), which is the limit that holds.
 */
export function bodyOver(limit: number): Statement {
  if (limit <= WAF_BODY_INSPECTION.bytes)
    return {
      sizeConstraintStatement: {
        fieldToMatch: { body: { oversizeHandling: "MATCH" } },
        comparisonOperator: "GT",
        size: limit,
        textTransformations: NONE,
      },
    };
  return regexOn({ singleHeader: { Name: "content-length" } }, greaterThanPattern(limit));
}

/** Routes by body limit (`bodyLimitBytes`, which the functions enforce): one WAF rule per limit. */
export function routesByBodyLimit(routes: readonly Route[]): Map<number, Route[]> {
  const groups = new Map<number, Route[]>();
  for (const route of routes) {
    const limit = bodyLimitBytes(route);
    groups.set(limit, [...(groups.get(limit) ?? []), route]);
  }
  return new Map([...groups].sort(([a], [b]) => a - b));
}

export type WafProps = {
  stage: string;
  routes: readonly Route[];
  allowedOrigins: readonly string[];
};

/** The web ACL's name (its metrics' `WebACL` dimension). */
export const webAclName = (stage: string) => `coachvault-${stage}`;

const visibility = (metricName: string) => ({
  cloudWatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: false,
});

/**
 * The API's web ACL: per-route body limits from the manifest, the AWS managed groups (body rules reviewed
 * above), a per-IP rate rule. Every block answers in the API's error format with the edge's headers.
 */
export function apiWebAcl(scope: Construct, id: string, props: WafProps): CfnWebACL {
  const responseHeaders = Object.entries(edgeResponseHeaders(props.allowedOrigins)).map(([name, value]) => ({
    name,
    value,
  }));
  const block = (responseCode: number, customResponseBodyKey: string) => ({
    block: { customResponse: { responseCode, customResponseBodyKey, responseHeaders } },
  });
  const blocked = block(403, "blocked");
  const tooLarge = new PayloadTooLargeError();

  const sizeRules = [...routesByBodyLimit(props.routes)].map(([limit, routes], index) => ({
    name: `BodyOver${limit}Bytes`,
    priority: index,
    action: block(413, "tooLarge"),
    statement: allOf([routesStatement(props.stage, routes), bodyOver(limit)]),
    visibilityConfig: visibility(`BodyOver${limit}Bytes`),
  }));
  const managedRules = MANAGED_RULE_GROUPS.map((group, index) => ({
    name: group.name,
    priority: 20 + index,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: "AWS",
        name: group.name,
        ruleActionOverrides: Object.entries(group.rules).map(([name, use]) => ({
          name,
          actionToUse: use === "block" ? blocked : { count: {} },
        })),
      },
    },
    visibilityConfig: visibility(group.name),
  }));
  const freeTextLabels = MANAGED_RULE_GROUPS.flatMap((group) =>
    Object.entries(group.rules)
      .filter(([, use]) => use === "freeText")
      .map(([rule]) => ruleLabel(group.labelNamespace, rule)),
  );
  const name = webAclName(props.stage);
  return new CfnWebACL(scope, id, {
    name,
    scope: "REGIONAL",
    defaultAction: { allow: {} },
    associationConfig: {
      requestBody: { API_GATEWAY: { defaultSizeInspectionLimit: WAF_BODY_INSPECTION.setting } },
    },
    customResponseBodies: {
      blocked: {
        contentType: "APPLICATION_JSON",
        content: JSON.stringify({ error: { code: "REQUEST_BLOCKED", message: "The request was blocked." } }),
      },
      tooLarge: {
        contentType: "APPLICATION_JSON",
        content: JSON.stringify({ error: { code: tooLarge.code, message: tooLarge.message } }),
      },
    },
    visibilityConfig: visibility(name),
    rules: [
      ...sizeRules,
      ...managedRules,
      {
        name: "FreeTextBodyRulesOutsideFreeTextRoutes",
        priority: 30,
        action: blocked,
        statement: allOf([
          anyOf(freeTextLabels.map(labelIs)),
          not(routesStatement(props.stage, freeTextRoutes(props.routes))),
        ]),
        visibilityConfig: visibility("FreeTextBodyRulesOutsideFreeTextRoutes"),
      },
      {
        name: "RateLimitPerIp",
        priority: 40,
        action: block(429, "blocked"),
        statement: {
          rateBasedStatement: {
            limit: API_RATE_LIMIT_PER_IP,
            aggregateKeyType: "IP",
            evaluationWindowSec: WAF_RATE_WINDOW_SECONDS,
          },
        },
        visibilityConfig: visibility("RateLimitPerIp"),
      },
    ],
  });
}

/**
 * WAF rate-based rules count requests per source IP over an evaluation window (60, 120, 300 or 600 s) and
 * act on an IP only after WAF's aggregation catches up (tens of seconds), with a floor of 10 requests per
 * window: they stop floods from one address, never enforce a per-user quota (the app's limiter does).
 */
export const WAF_RATE_WINDOW_SECONDS = 60;
/** WAF refuses a rate-based limit below this many requests per evaluation window. */
export const WAF_RATE_FLOOR = 10;
/**
 * Requests per IP per minute on the API: the product's 100 a minute for a coach (seed 000), counted per
 * address (was 500 per 5 minutes: the same rate, now over a window a fifth as long, so a burst is cut sooner).
 */
export const API_RATE_LIMIT_PER_IP = 100;
/**
 * Requests per IP per minute to the user pool's sign-in API. One sign-in is three calls (SRP start, the
 * password verifier, the TOTP code) and a token refresh one, so 30 admits ten people signing in behind one
 * clinic address in the same minute while a password-guessing script from one address gets about ten
 * tries a minute before WAF blocks it. WAF's floor (10 per window) would allow about three sign-ins a minute.
 */
export const SIGN_IN_RATE_LIMIT_PER_IP = 30;

/**
 * AWS managed groups on the sign-in ACL: cheap (no subscription fee, 25 WCU each) and suited to an
 * endpoint that takes only Cognito's JSON calls. Known bad addresses (reputation and reconnaissance lists)
 * and exploit strings (Log4J, Java deserialization, localhost Host). Not the common rule set (its body
 * rules mean nothing for SRP payloads) nor the anonymous-IP list (coaches may sign in through a VPN), and
 * not ATP, which is billed per request and duplicates Cognito's own threat protection.
 */
export const SIGN_IN_MANAGED_RULE_GROUPS = [
  "AWSManagedRulesAmazonIpReputationList",
  "AWSManagedRulesKnownBadInputsRuleSet",
] as const;

/** The sign-in web ACL's name (its metrics' `WebACL` dimension). */
export const signInWebAclName = (stage: string) => `coachvault-${stage}-sign-in`;

/**
 * The user pool's web ACL: a per-IP rate rule and the managed groups above, in front of Cognito's own
 * lockout and threat protection (auth.ts), which count per user, not per address.
 */
export function signInWebAcl(scope: Construct, id: string, stage: string): CfnWebACL {
  const name = signInWebAclName(stage);
  return new CfnWebACL(scope, id, {
    name,
    scope: "REGIONAL",
    defaultAction: { allow: {} },
    visibilityConfig: visibility(name),
    rules: [
      {
        name: "SignInRateLimitPerIp",
        priority: 0,
        action: { block: {} },
        statement: {
          rateBasedStatement: {
            limit: SIGN_IN_RATE_LIMIT_PER_IP,
            aggregateKeyType: "IP",
            evaluationWindowSec: WAF_RATE_WINDOW_SECONDS,
          },
        },
        visibilityConfig: visibility("SignInRateLimitPerIp"),
      },
      ...SIGN_IN_MANAGED_RULE_GROUPS.map((group, index) => ({
        name: group,
        priority: 10 + index,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: "AWS", name: group } },
        visibilityConfig: visibility(`SignIn${group}`),
      })),
    ],
  });
}
