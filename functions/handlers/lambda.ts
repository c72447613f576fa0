/**
 * The Lambda entry of every HTTP handler: composes the broker from the environment once per
 * cold start, checks the schema version once it can reach the database, then builds the
 * handler, and publishes the invocation's metrics (EMF) when it is done. The local runtime
 * skips this and calls the same `build` with its own broker.
 */
import type { ALBEvent, Context } from 'aws-lambda';
import { resolveSecretArns } from '../adapters/secrets.ts';
import { ensureSchema, SchemaVersionError } from '../adapters/site-db/migrate.ts';
import { type Broker, compose } from '../compose.ts';
import { loadConfig } from '../config.ts';
import { DatabaseUnavailableError } from '../core/errors.ts';
import type { AlbHandler } from './http/handler.ts';
import { errorResponse, toAlbResult } from './http/response.ts';

let broker: Promise<Broker> | undefined;
let schemaChecked = false;

/** The composed broker of this Lambda environment, made on first use. */
export function lambdaBroker(): Promise<Broker> {
  broker ??= resolveSecretArns(loadConfig())
    .then((config) => compose(config))
    .catch((e: unknown) => {
      broker = undefined;
      throw e;
    });
  return broker;
}

/**
 * Refuses to serve when the database's schema is not this broker's. While the database does
 * not answer, requests go on (handlers answer 503 or use leases) and the check runs again.
 */
async function checkSchema(b: Broker): Promise<void> {
  if (schemaChecked) return;
  try {
    await ensureSchema(b.site.db, { createIfEmpty: false, upgrade: false });
    schemaChecked = true;
  } catch (e: unknown) {
    if (!(e instanceof DatabaseUnavailableError)) throw e;
  }
}

export function lambdaHandler(build: (broker: Broker) => AlbHandler): AlbHandler {
  let handler: AlbHandler | undefined;
  return async (event: ALBEvent, context: Context) => {
    const b = await lambdaBroker();
    try {
      await checkSchema(b);
    } catch (e: unknown) {
      if (e instanceof SchemaVersionError) {
        b.logger.error('schema version mismatch', { error: e.message });
        return toAlbResult(
          errorResponse(503, e.code, e.message),
          event.multiValueHeaders !== undefined,
        );
      }
      throw e;
    }
    handler ??= build(b);
    try {
      return await handler(event, context);
    } finally {
      b.metrics.flush();
    }
  };
}
