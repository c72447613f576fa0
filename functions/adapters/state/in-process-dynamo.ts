/**
 * The local runtime's state table inside the broker's own process: dynalite's DynamoDB
 * implementation (its validations, expression engine and LevelDB store) called directly,
 * without the AWS SDK's middleware, request signing and an HTTP round trip on loopback.
 * It answers the same commands the SDK clients send (`@aws-sdk/lib-dynamodb` document
 * commands and `@aws-sdk/client-dynamodb` table commands), with the same results and the
 * same errors (`name` = DynamoDB's exception type), so every state store runs unchanged on
 * it, on DynamoDB on AWS, and on the shared state server.
 */
import { createRequire } from 'node:module';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { countDynamoDbCall } from '../meter.ts';
import type { StateTable } from './state-table.ts';

const require = createRequire(import.meta.url);

type Callback = (err: DynaliteError | null, data?: Record<string, unknown>) => void;
type Action = (store: DynaliteStore, data: unknown, cb: Callback) => void;
interface ActionValidation {
  readonly types: unknown;
  readonly custom?: unknown;
}
interface DynaliteError extends Error {
  readonly statusCode?: number;
  readonly body?: { __type: string; message?: string; [key: string]: unknown };
}
interface DynaliteStore {
  readonly db: { close(cb: (err?: Error) => void): void };
}
interface Validations {
  checkTypes(data: unknown, types: unknown): unknown;
  checkValidations(data: unknown, types: unknown, custom: unknown, store: DynaliteStore): void;
}

/** The shape of a command, as far as this client reads it. */
interface SdkCommand {
  readonly input: Record<string, unknown>;
  /** Document commands: the raw command they translate into, and where values sit. */
  readonly clientCommand?: object;
  readonly inputKeyNodes?: KeyNodes;
  readonly outputKeyNodes?: KeyNodes;
}
/** lib-dynamodb's map of where attribute values sit: `{}` all values, `[]` all members, `*`. */
type KeyNodes = { readonly [key: string]: KeyNodes | null } | readonly never[];

export interface InProcessDynamo {
  /** Answers a document command or a table command, as `DynamoDBClient.send` does. */
  send(command: object): Promise<Record<string, unknown>>;
  destroy(): void;
  /** Closes the LevelDB store (flushes it to the folder). */
  close(): Promise<void>;
}

/**
 * The state table `tableName` in this process, kept in `path` (in memory without one): the
 * local runtime's, when no DynamoDB endpoint is configured.
 */
export function openInProcessStateTable(options: {
  readonly tableName: string;
  readonly path?: string;
}): StateTable {
  const store = openInProcessDynamo({ path: options.path });
  // The stores send SDK commands; this client answers them (see send) without the SDK.
  const client = store as unknown as StateTable['doc'] & StateTable['raw'];
  return { doc: client, raw: client, tableName: options.tableName, close: () => store.close() };
}

/**
 * Opens dynalite's store on `path` (in memory when absent), the same store the embedded
 * DynamoDB server keeps, so a folder written by either opens in the other.
 */
export function openInProcessDynamo(options: { path?: string } = {}): InProcessDynamo {
  const db = require('dynalite/db') as {
    create(options: Record<string, unknown>): DynaliteStore;
  };
  const validations = require('dynalite/validations') as Validations;
  const store = db.create({
    path: options.path,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const actions = new Map<string, { run: Action; validation: ActionValidation }>();
  const actionFor = (name: string) => {
    let action = actions.get(name);
    if (!action) {
      action = {
        run: require(`dynalite/actions/${name}`) as Action,
        validation: require(`dynalite/validations/${name}`) as ActionValidation,
      };
      actions.set(name, action);
    }
    return action;
  };
  // Calls under way: close waits for them, so none meets a store that closed under it.
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  const answer = async (command: object): Promise<Record<string, unknown>> => {
    const c = command as SdkCommand;
    const name = actionName(c.clientCommand ?? command);
    if (!KNOWN_ACTIONS.has(name)) throw new Error(`the state table does not answer ${name}`);
    countDynamoDbCall();
    const input = c.inputKeyNodes
      ? translate(c.input, c.inputKeyNodes, (v) =>
          marshall(v as Record<string, unknown>, {
            removeUndefinedValues: true,
            convertTopLevelContainer: true,
          }),
        )
      : c.input;
    // The wire's JSON: no undefined members, plain values only.
    let data = JSON.parse(JSON.stringify(input)) as unknown;
    const { run, validation } = actionFor(name);
    try {
      data = validations.checkTypes(data, validation.types);
      validations.checkValidations(data, validation.types, validation.custom, store);
    } catch (e: unknown) {
      throw asSdkError(e);
    }
    const output = await new Promise<Record<string, unknown>>((resolve, reject) =>
      run(store, data, (err, result) => (err ? reject(asSdkError(err)) : resolve(result ?? {}))),
    );
    return c.outputKeyNodes
      ? (translate(output, c.outputKeyNodes, (v) =>
          unmarshall(v as never, { convertWithoutMapWrapper: true }),
        ) as Record<string, unknown>)
      : output;
  };
  return {
    send(command: object): Promise<Record<string, unknown>> {
      if (closed) return Promise.reject(new Error('the state table is closed'));
      const call = answer(command);
      inFlight.add(call);
      const done = () => inFlight.delete(call);
      call.then(done, done);
      return call;
    },
    destroy() {},
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      await new Promise<void>((resolve, reject) =>
        store.db.close((err) => (err ? reject(err) : resolve())),
      );
    },
  };
}

/** The actions the state stores and the runtime use (dynalite implements more). */
const KNOWN_ACTIONS = new Set([
  'getItem',
  'putItem',
  'updateItem',
  'deleteItem',
  'query',
  'scan',
  'batchGetItem',
  'batchWriteItem',
  'describeTable',
  'createTable',
]);

/** `GetItemCommand` → `getItem`. */
const actionName = (command: object): string => {
  const className = command.constructor.name.replace(/Command$/, '');
  return className.charAt(0).toLowerCase() + className.slice(1);
};

/** A dynalite refusal as the SDK throws it: `name` is DynamoDB's exception type. */
function asSdkError(e: unknown): unknown {
  const err = e as DynaliteError;
  if (!err?.body?.__type) return e;
  const { __type, message, ...details } = err.body;
  const error = new Error(message ?? __type) as Error & Record<string, unknown>;
  error.name = __type.slice(__type.indexOf('#') + 1);
  Object.assign(error, details, { $metadata: { httpStatusCode: err.statusCode } });
  return error;
}

/**
 * Applies `fn` to the attribute values of a command's input or output, at the places
 * `nodes` names (lib-dynamodb's key nodes: `{}` every member is a value map, `[]` every
 * element, `*` every key, `null` this node itself).
 */
function translate(value: unknown, nodes: KeyNodes | null, fn: (v: unknown) => unknown): unknown {
  if (value === undefined || value === null) return value;
  if (nodes === null) return fn(value);
  const keys = Object.keys(nodes);
  if (keys.length === 0) {
    // Every member of the object or array is itself a value (an item, a key).
    return Array.isArray(value)
      ? value.map((v) => fn(v))
      : Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, fn(v)]));
  }
  if (keys.length === 1 && keys[0] === '*') {
    const next = (nodes as Record<string, KeyNodes | null>)['*'] ?? null;
    return Array.isArray(value)
      ? value.map((v) => translate(v, next, fn))
      : Object.fromEntries(
          Object.entries(value as object).map(([k, v]) => [k, translate(v, next, fn)]),
        );
  }
  const result: Record<string, unknown> = { ...(value as object) };
  for (const key of keys) {
    if (key in result)
      result[key] = translate(result[key], (nodes as Record<string, KeyNodes | null>)[key]!, fn);
  }
  return result;
}
