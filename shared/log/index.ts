import { LogFormatter, Logger, LogItem } from "@aws-lambda-powertools/logger";
import type { LogAttributes, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";
import { redact, scrubString } from "./redact";

export { maskEmail, REDACTED, redact, scrubString } from "./redact";

/**
 * Powertools log formatter that never writes PHI, tokens or secrets: every extra attribute goes through
 * `redact`, and errors keep their name, code and stack frames but lose their message (SDK and parser
 * messages can quote the input that caused them).
 */
class PhiSafeLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: scrubString(attributes.message),
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: attributes.lambdaContext?.coldStart,
        function_name: attributes.lambdaContext?.functionName,
        request_id: attributes.lambdaContext?.awsRequestId,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes(redact(additional) as LogAttributes);
  }

  override formatError(error: Error): LogAttributes {
    const frames = (error.stack ?? "").split("\n").filter((line) => line.trimStart().startsWith("at "));
    // The cause's name tells a throttled call from a refused one; its message, like any message, is left out.
    const cause = error.cause instanceof Error ? error.cause.name : undefined;
    return {
      name: error.name,
      code: (error as { code?: string }).code,
      ...(cause && { cause }),
      location: frames.slice(0, 5).map((line) => line.trim()),
    };
  }
}

export const logger = new Logger({
  serviceName: "coachvault",
  logLevel: (process.env.LOG_LEVEL as "INFO" | undefined) ?? "INFO",
  logFormatter: new PhiSafeLogFormatter(),
});
