import { AsyncLocalStorage } from "node:async_hooks";
import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import type {
  HandlerExecutionContext,
  InitializeHandler,
  InitializeHandlerArguments,
  MiddlewareStack,
} from "@smithy/types";
import { aws, ERROR_CLASSIFIER } from "../../shared/aws";

/**
 * Fault injection for tests that invoke handlers in-process (`invoke.ts`): every AWS call this process
 * makes is recorded, and the n-th one can be made to fail once. The fault sits just inside the error
 * classifier and outside the SDK's own retries, so the code under test sees it as a call that failed
 * after the SDK had given up: the harshest case. Kinds:
 * - `throttling`, `server` (a 500): the call never reaches the service;
 * - `timeout`: the call reaches the service and takes effect, but its answer is lost (so the caller
 *   cannot know whether it happened: the case that tests idempotence and clean-up);
 * - `conditional`: a condition fails (a lost race), for calls that carry one;
 * - `resent`: the call takes effect, its answer is lost, and the SDK sends it again, as its own retries
 *   do: the caller sees the second answer (for a call that is not idempotent, the service's refusal to
 *   do it twice, e.g. `UsernameExistsException`).
 */
export type FaultKind = "throttling" | "server" | "timeout" | "conditional" | "resent";
export type Call = { service: string; operation: string; input: Record<string, any> };

const CLIENTS = ["dynamo", "kms", "s3", "cognito", "comprehendMedical", "lambda", "sns"] as const;

/**
 * Which call to fail: the n-th call overall, the n-th (0-based) call of one service operation, or the n-th
 * call of a service whatever its operation (`ServiceTarget`: "Cognito's first call", whichever it is).
 */
export type CallTarget = { service: string; operation: string; table?: string; occurrence: number };
export type ServiceTarget = { service: string; occurrence: number };
export type Target = { index: number } | CallTarget | ServiceTarget;
let calls: Call[] = [];
let plan: { target: Target; kind: FaultKind; fired: boolean } | undefined;

function isTarget(target: Target, index: number, call: Call): boolean {
  if ("index" in target) return target.index === index;
  const same = (c: Call) =>
    c.service === target.service &&
    (!("operation" in target) || c.operation === target.operation) &&
    (!("table" in target) || c.input.TableName === target.table);
  return same(call) && calls.slice(0, index).filter(same).length === target.occurrence;
}

/**
 * Each call of a run as a target that survives other calls coming and going (a cache warming up, a chain
 * head read again after another writer moved it): the n-th call of its operation on the same table.
 */
export function targetsOf(run: readonly Call[]): CallTarget[] {
  const key = (call: Call) => `${call.service} ${call.operation} ${call.input.TableName ?? ""}`;
  return run.map((call, index) => ({
    service: call.service,
    operation: call.operation,
    ...(call.input.TableName ? { table: call.input.TableName as string } : {}),
    occurrence: run.slice(0, index).filter((c) => key(c) === key(call)).length,
  }));
}
const instrumented = new WeakSet<object>();
/** Calls made inside `unrecorded` (what stands in for API Gateway's own work) are neither recorded nor failed. */
const outside = new AsyncLocalStorage<true>();

/** Runs `work` as something other than the code under test: its AWS calls are not recorded or faulted. */
export function unrecorded<T>(work: () => Promise<T>): Promise<T> {
  return outside.run(true, work);
}

const sdkError = (name: string, status: number, fault: "client" | "server", message: string) =>
  Object.assign(new Error(message), { name, $fault: fault, $metadata: { httpStatusCode: status } });

type TransactItem = Record<string, { ConditionExpression?: string } | undefined>;
const conditionOf = (item: TransactItem) =>
  Object.values(item).find((operation) => operation?.ConditionExpression)?.ConditionExpression;

/** Whether a call carries a condition a lost race could fail. */
export function hasCondition(call: Call): boolean {
  if (call.operation === "TransactWriteItemsCommand")
    return (call.input.TransactItems as TransactItem[]).some((item) => conditionOf(item));
  return Boolean(call.input.ConditionExpression);
}

function conditionalFailure(call: Call): Error {
  if (call.operation === "TransactWriteItemsCommand") {
    const items = call.input.TransactItems as TransactItem[];
    const first = items.findIndex((item) => conditionOf(item));
    return new TransactionCanceledException({
      message: "Transaction cancelled",
      $metadata: { httpStatusCode: 400 },
      CancellationReasons: items.map((_, index) => ({
        Code: index === first ? "ConditionalCheckFailed" : "None",
      })),
    });
  }
  return new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} });
}

function instrument(service: string, client: { middlewareStack: MiddlewareStack<any, any> }) {
  if (instrumented.has(client)) return;
  instrumented.add(client);
  client.middlewareStack.addRelativeTo(
    (next: InitializeHandler<any, any>, context: HandlerExecutionContext) =>
      async (args: InitializeHandlerArguments<any>) => {
        if (outside.getStore()) return next(args);
        const call = {
          service,
          operation: String(context.commandName),
          input: args.input as Record<string, any>,
        };
        const index = calls.push(call) - 1;
        if (!plan || plan.fired || !isTarget(plan.target, index, call)) return next(args);
        plan.fired = true;
        switch (plan.kind) {
          case "throttling":
            throw sdkError("ThrottlingException", 400, "client", "Rate exceeded");
          case "server":
            throw sdkError("InternalServerError", 500, "server", "Internal server error");
          case "conditional":
            throw conditionalFailure(call);
          case "timeout":
            await next(args);
            throw Object.assign(new Error("socket timed out"), { name: "TimeoutError" });
          case "resent":
            await next(args);
            return next(args);
        }
      },
    { relation: "after", toMiddleware: ERROR_CLASSIFIER, name: "testFaultInjector" },
  );
}

/** Instruments this process's clients (call after `useLocalStack`, which builds new ones). */
export function installFaultInjector(): void {
  for (const name of CLIENTS) instrument(name, aws(name));
}

/** Starts recording calls afresh; with a fault, the targeted call fails once. */
export function arm(fault?: { target: Target; kind: FaultKind }): void {
  calls = [];
  plan = fault && { ...fault, fired: false };
}

/** The calls made since the last `arm`, and whether the planned fault fired. */
export function recorded(): { calls: readonly Call[]; fired: boolean } {
  return { calls: [...calls], fired: Boolean(plan?.fired) };
}

export function disarm(): void {
  plan = undefined;
  calls = [];
}
