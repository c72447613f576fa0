/**
 * The Lambda entry of every HTTP handler: composes, from the environment, once per cold start,
 * the part of the broker that the handler's endpoints use (its `compose…Broker`), checks the
 * schema version once it can reach the database, then builds the handler, and publishes the
 * invocation's metrics (EMF) when it is done. The local runtime skips this and calls the same
 * `build` with its whole broker (compose.ts), which holds every part.
 */
import type { ALBEvent, Context } from 'aws-lambda';
import { resolveSecretArns } from '../adapters/secrets.ts';
import { ensureSchema, SchemaVersionError } from '../adapters/site-db/migrate.ts';
import type { BrokerBase } from '../compose/base.ts';
import { type Config, loadConfig } from '../config.ts';
import { DatabaseUnavailableError } from '../core/errors.ts';
import type { AlbHandler } from './http/handler.ts';
import { errorResponse, toAlbResult } from './http/response.ts';

/** What the Lambda entry itself uses of a composed broker. */
export type LambdaBroker = Pick<BrokerBase, 'site' | 'logger' | 'metrics'>;

/** Composes the part of the broker a Lambda entry needs, from its configuration. */
export type Composer<B> = (config: Config) => Promise<B>;

/** The composed brokers of this Lambda environment (one entry, so one composer), by composer. */
const brokers = new Map<Composer<unknown>, Promise<unknown>>();
let schemaChecked = false;

/** The broker `composer` makes for this Lambda environment, made on first use. */
export function lambdaBroker<B>(composer: Composer<B>): Promise<B> {
  let broker = brokers.get(composer) as Promise<B> | undefined;
  if (!broker) {
    broker = resolveSecretArns(loadConfig())
      .then((config) => composer(config))
      .catch((e: unknown) => {
        brokers.delete(composer);
        throw e;
      });
    brokers.set(composer, broker);
  }
  return broker;
}

/**
 * Refuses to serve when the database's schema is not this broker's. While the database does
 * not answer, requests go on (handlers answer 503 or use leases) and the check runs again.
 */
async function checkSchema(b: LambdaBroker): Promise<void> {
  if (schemaChecked) return;
  try {
    await ensureSchema(b.site.db, { createIfEmpty: false, upgrade: false });
    schemaChecked = true;
  } catch (e: unknown) {
    if (!(e instanceof DatabaseUnavailableError)) throw e;
  }
}

/** The Lambda entry of an HTTP handler: `composer` makes its broker, `build` its handler. */
export function lambdaHandler<B extends LambdaBroker>(
  composer: Composer<B>,
  build: (broker: B) => AlbHandler,
): AlbHandler {
  let handler: AlbHandler | undefined;
  return async (event: ALBEvent, context: Context) => {
    const b = await lambdaBroker(composer);
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
