/**
 * Per-request meters of the backing services, counted where the calls leave the process (the
 * transport): every site-database round trip (a statement, BEGIN, COMMIT, ROLLBACK, a
 * transaction's settings, a streamed query's fetches, each attempt of an SDK retry) and every
 * DynamoDB request (each attempt too). The local runtime reports them per request in response
 * headers; the budget tests and benchmarks read them there.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What one piece of work (a request) made. */
export interface Meter {
  sqlRoundTrips: number;
  dynamoDbCalls: number;
}

const scope = new AsyncLocalStorage<Meter>();

/** Runs `fn`, counting the calls it makes (its own, not those of concurrent work). */
export async function metered<T>(fn: () => Promise<T>): Promise<{ result: T; meter: Meter }> {
  const meter: Meter = { sqlRoundTrips: 0, dynamoDbCalls: 0 };
  const result = await scope.run(meter, fn);
  return { result, meter };
}

/** Counts one site-database round trip: into `stats` (the database's total) and the request's meter. */
export function countSqlRoundTrip(stats: { roundTrips: number }): void {
  stats.roundTrips++;
  const meter = scope.getStore();
  if (meter) meter.sqlRoundTrips++;
}

/** Counts one DynamoDB request into the request's meter. */
export function countDynamoDbCall(): void {
  const meter = scope.getStore();
  if (meter) meter.dynamoDbCalls++;
}

type Handler = (args: unknown) => Promise<unknown>;

/** A client of the AWS SDK v3, as far as adding a middleware goes. */
interface SdkClient {
  readonly middlewareStack: { add(middleware: never, options: never): void };
}

/**
 * Calls `count` for every HTTP request an SDK client sends. The `deserialize` step runs once per
 * attempt, inside the retry middleware (`finalizeRequest`), right before the request handler:
 * a retried call counts each time it goes out.
 */
export function meterSdkClient(client: SdkClient, name: string, count: () => void): void {
  const add = client.middlewareStack.add as (
    middleware: (next: Handler) => Handler,
    options: { step: 'deserialize'; name: string; override: boolean },
  ) => void;
  add.call(
    client.middlewareStack,
    (next) => async (args) => {
      count();
      return next(args);
    },
    { step: 'deserialize', name, override: true },
  );
}
