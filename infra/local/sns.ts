import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { boundedBody, listenLocally } from "./json-protocol";
import { LOCAL_ACCOUNT } from "./kms";

/**
 * Local stand-in for the one SNS operation CoachVault uses, Publish, speaking the AWS Query protocol the SDK
 * v3 SNS client sends (a form-encoded POST, `Action=Publish&Version=2010-03-31&TopicArn=…&Message=…`,
 * answered in XML), so production code runs unchanged against it. It knows one topic, the local alarm
 * topic, and appends each message it takes as a JSON line to `<dir>/sns/messages.jsonl`, where tests and
 * people read what the alarm topic would have sent.
 */
export type PublishedMessage = {
  messageId: string;
  topicArn: string;
  subject?: string;
  message: string;
  attributes: Record<string, string>;
  at: string;
};

export const localAlarmTopicArn = (region: string) =>
  `arn:aws:sns:${region}:${LOCAL_ACCOUNT}:coachvault-local-alarms`;

const messagesFile = (dir: string) => join(dir, "sns", "messages.jsonl");
const MAX_REQUEST_BYTES = 256 * 1024 + 16 * 1024;
const NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/";

/** What the local alarm topic has received, oldest first. */
export function readPublished(dir: string): PublishedMessage[] {
  const file = messagesFile(dir);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PublishedMessage);
}

const xmlEscape = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

const errorXml = (code: string, message: string, requestId: string) =>
  `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;

/** `MessageAttributes.entry.N.Name` / `…Value.StringValue` pairs, as the Query protocol flattens them. */
function attributesOf(form: URLSearchParams): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (let n = 1; form.has(`MessageAttributes.entry.${n}.Name`); n++) {
    const name = form.get(`MessageAttributes.entry.${n}.Name`) as string;
    attributes[name] = form.get(`MessageAttributes.entry.${n}.Value.StringValue`) ?? "";
  }
  return attributes;
}

export function startLocalSns(dir: string, port: number, region: string): Promise<Server> {
  mkdirSync(join(dir, "sns"), { recursive: true, mode: 0o700 });
  const topicArn = localAlarmTopicArn(region);
  const server = createServer((req, res) => {
    boundedBody(req, MAX_REQUEST_BYTES, (body) => {
      const requestId = randomUUID();
      const reply = (status: number, xml: string) => {
        res.writeHead(status, { "Content-Type": "text/xml", "x-amzn-RequestId": requestId });
        res.end(xml);
      };
      if (body === undefined) return reply(400, errorXml("InvalidParameter", "request too large", requestId));
      const form = new URLSearchParams(body);
      if (form.get("Action") !== "Publish")
        return reply(400, errorXml("InvalidAction", "only Publish is served here", requestId));
      if (form.get("TopicArn") !== topicArn)
        return reply(404, errorXml("NotFound", "Topic does not exist", requestId));
      const message = form.get("Message");
      if (!message) return reply(400, errorXml("InvalidParameter", "Message is required", requestId));
      const messageId = randomUUID();
      const subject = form.get("Subject");
      const published: PublishedMessage = {
        messageId,
        topicArn,
        ...(subject && { subject }),
        message,
        attributes: attributesOf(form),
        at: new Date().toISOString(),
      };
      appendFileSync(messagesFile(dir), `${JSON.stringify(published)}\n`, { mode: 0o600 });
      reply(
        200,
        `<PublishResponse xmlns="${NAMESPACE}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
  });
  return listenLocally(server, port);
}
