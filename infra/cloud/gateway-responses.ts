import {
  AuthorizationType,
  type IResource,
  MockIntegration,
  ResponseType,
  type RestApi,
} from "aws-cdk-lib/aws-apigateway";
import { GATEWAY_ERRORS } from "../../shared/http/errors";
import {
  edgeResponseHeaders,
  preflightCorsHeaders,
  SECURITY_HEADERS,
} from "../../shared/http/security-headers";

/** Header values as API Gateway takes static ones: quoted. */
const quoted = (headers: Record<string, string>, prefix: string) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [`${prefix}${name}`, `'${value}'`]));

const errorBody = (code: string, message: string) =>
  `{"error":{"code":"${code}","message":${message},"requestId":"$context.requestId"}}`;

/**
 * What API Gateway answers itself (no route, bad token, validation, throttling, a function that failed to
 * answer) in the API's error format, with the security headers and, for a single allowed origin, CORS
 * (`edgeResponseHeaders` says why not for several). The answers the local gateway gives itself have the
 * same status, code and message.
 */
export function addGatewayResponses(api: RestApi, allowedOrigins: readonly string[]) {
  const responseHeaders = quoted(edgeResponseHeaders(allowedOrigins), "");
  const fixed = ({ status, code, message }: { status: number; code: string; message: string }) => ({
    statusCode: String(status),
    templates: { "application/json": errorBody(code, JSON.stringify(message)) },
  });
  const responses = [
    // API Gateway's answer to a path or method no route has (it says 403 "Missing Authentication Token").
    { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, ...fixed(GATEWAY_ERRORS.notFound) },
    { type: ResponseType.UNAUTHORIZED, ...fixed(GATEWAY_ERRORS.unauthorized) },
    { type: ResponseType.REQUEST_TOO_LARGE, ...fixed(GATEWAY_ERRORS.tooLarge) },
    ...[ResponseType.DEFAULT_4XX, ResponseType.DEFAULT_5XX].map((type) => ({
      type,
      templates: {
        "application/json": errorBody("$context.error.responseType", "$context.error.messageString"),
      },
    })),
  ];
  for (const response of responses)
    api.addGatewayResponse(`Response${response.type.responseType}`, { ...response, responseHeaders });
}

/**
 * The OPTIONS method of one path: the security headers always, and the CORS headers only for an allowed
 * origin (a template compares the request's Origin with the list; another origin gets none, and its own
 * Origin is never echoed). The local gateway answers a preflight with the same headers.
 */
export function addPreflight(
  resource: IResource,
  methods: readonly string[],
  allowedOrigins: readonly string[],
) {
  const always = { ...SECURITY_HEADERS, Vary: "Origin" };
  const cors = preflightCorsHeaders("$origin", methods);
  const template = [
    '#set($origin = $input.params().header.get("Origin"))',
    '#if($origin == "")#set($origin = $input.params().header.get("origin"))#end',
    `#if(${allowedOrigins.map((origin) => `$origin == ${JSON.stringify(origin)}`).join(" || ")})`,
    ...Object.entries(cors).map(([name, value]) =>
      name === "Access-Control-Allow-Origin"
        ? `#set($context.responseOverride.header.${name} = $origin)`
        : `#set($context.responseOverride.header.${name} = ${JSON.stringify(value)})`,
    ),
    "#end",
  ].join("\n");
  const declared = Object.fromEntries(
    [...Object.keys(always), ...Object.keys(cors)].map((name) => [`method.response.header.${name}`, true]),
  );
  return resource.addMethod(
    "OPTIONS",
    new MockIntegration({
      requestTemplates: { "application/json": "{ statusCode: 200 }" },
      integrationResponses: [
        {
          statusCode: "204",
          responseParameters: quoted(always, "method.response.header."),
          responseTemplates: { "application/json": template },
        },
      ],
    }),
    {
      authorizationType: AuthorizationType.NONE,
      methodResponses: [{ statusCode: "204", responseParameters: declared }],
    },
  );
}
