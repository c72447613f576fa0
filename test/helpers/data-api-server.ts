/**
 * A stand-in for the Amazon RDS Data API (Aurora PostgreSQL) over a real PostgreSQL, speaking
 * the restJson1 wire protocol that `@aws-sdk/client-rds-data` uses. It is written from the
 * Data API documentation and from how the service is known to behave, independently of the
 * dialect it tests (so a shared misunderstanding cannot hide a bug on both sides). The dialect
 * has no SQL lexer at all (its compiler writes `:pN` as it compiles); the lexer below, which
 * finds `:name` the way the service does, is this stand-in's own:
 *
 * - `:name` parameters (outside string literals, quoted identifiers, dollar quotes, comments
 *   and `::` casts) become `$n`.
 * - Parameters are typed the way the service's JDBC driver types them: `stringValue` is a
 *   `varchar` (so a plain string put into a `jsonb`, `uuid` or `timestamptz` column fails with
 *   "column ... is of type jsonb but expression is of type character varying", as on Aurora),
 *   `longValue` an `int8`, `doubleValue` a `float8`, `booleanValue` a `bool`, `blobValue` a
 *   `bytea`; `isNull` is untyped. `typeHint` makes a string a `timestamp`, `date`, `time`,
 *   `numeric`, `json` or `uuid`, and the string must have the documented format.
 * - Sessions run in UTC (Aurora's default `timezone`).
 * - Results are `Field` unions; `includeResultMetadata` adds `columnMetadata` whose
 *   `typeName` is what pgjdbc reports (`int4`, `int8`, `text`, `bool`, `jsonb`, `timestamptz`,
 *   `_int4` for arrays, `serial`/`bigserial` for sequence-backed integer columns).
 *   `formatRecordsAs: "JSON"` returns `formattedRecords` instead of records and metadata.
 * - A transaction is pinned to one PostgreSQL connection; it is rolled back after
 *   `transactionTimeoutMs` without a call (the service's three minutes).
 * - A response over 1 MiB is refused (the service's documented limit: "If the call returns
 *   more than 1 MiB of response data, the call is terminated") with a BadRequestException.
 * - Errors: `x-amzn-ErrorType` header and `{ message }` body. SQL errors are
 *   `DatabaseErrorException` with pgjdbc's message form
 *   (`ERROR: ...\n  Detail: ...; SQLState: 23505`).
 *
 * Assumptions that could not be checked against the real service: the wording of the
 * response-size error, the exact timestamp text of
 * results (UTC, no offset), the JSON record format, and that committing a transaction that an
 * error aborted reports "Transaction Committed" (pgjdbc's default silent rollback).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

/** A running stand-in. */
export interface DataApiServer {
  /** Base URL for the SDK client's `endpoint` option, such as `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  /** Rolls back open transactions, closes the database pools and stops listening. */
  close(): Promise<void>;
}

/** Options of {@link startDataApiServer}. */
export interface DataApiServerOptions {
  /**
   * PostgreSQL URL. Its database is used when a request names none; a request's `database`
   * replaces the URL's path.
   */
  readonly connectionString: string;
  /** Idle time after which an open transaction is rolled back (default 180 000 ms). */
  readonly transactionTimeoutMs?: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface TypeInfo {
  readonly name: string;
  readonly elem: number;
  readonly category: string;
}

interface ColumnInfo {
  readonly tableName: string;
  readonly schemaName: string;
  readonly nullable: number;
  readonly autoIncrement: boolean;
}

interface Database {
  readonly pool: pg.Pool;
  types: Map<number, TypeInfo> | undefined;
  readonly columns: Map<string, ColumnInfo | null>;
}

interface Transaction {
  readonly client: pg.PoolClient;
  readonly db: Database;
  timer: NodeJS.Timeout;
  /** Serializes the calls of one transaction. */
  queue: Promise<unknown>;
}

interface ResultOptions {
  readonly longAsString: boolean;
  readonly decimalAsNumber: boolean;
}

class ApiError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, status: number, message: string) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

const badRequest = (message: string) => new ApiError('BadRequestException', 400, message);

const MAX_BODY = 4 * 1024 * 1024;
/** The Data API's response size limit. */
const MAX_RESPONSE = 1024 * 1024;

/** java.sql.Types codes that pgjdbc reports per PostgreSQL type. */
const JDBC_TYPES: Readonly<Record<string, number>> = {
  bool: -7,
  int2: 5,
  int4: 4,
  int8: -5,
  oid: -5,
  float4: 7,
  float8: 8,
  numeric: 2,
  bpchar: 1,
  varchar: 12,
  text: 12,
  name: 12,
  date: 91,
  time: 92,
  timetz: 92,
  timestamp: 93,
  timestamptz: 93,
  bytea: -2,
};

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8', 'oid']);
const FLOAT_TYPES = new Set(['float4', 'float8']);

const HINT_CASTS: Readonly<Record<string, { cast: string; format?: RegExp }>> = {
  TIMESTAMP: { cast: 'timestamp', format: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/ },
  DATE: { cast: 'date', format: /^\d{4}-\d{2}-\d{2}$/ },
  TIME: { cast: 'time', format: /^\d{2}:\d{2}:\d{2}(\.\d{1,9})?$/ },
  DECIMAL: { cast: 'numeric' },
  JSON: { cast: 'json' },
  UUID: { cast: 'uuid' },
};

/**
 * Starts the stand-in on 127.0.0.1 on a free port.
 *
 * @throws when the port cannot be bound. Database problems surface per request.
 */
export async function startDataApiServer(options: DataApiServerOptions): Promise<DataApiServer> {
  const timeoutMs = options.transactionTimeoutMs ?? 180_000;
  const databases = new Map<string, Database>();
  const transactions = new Map<string, Transaction>();

  const database = (name: unknown): Database => {
    const key = typeof name === 'string' && name !== '' ? name : '';
    let db = databases.get(key);
    if (!db) {
      let connectionString = options.connectionString;
      if (key !== '') {
        const url = new URL(options.connectionString);
        url.pathname = `/${encodeURIComponent(key)}`;
        connectionString = url.toString();
      }
      const pool = new pg.Pool({
        connectionString,
        max: 10,
        options: '-c TimeZone=UTC -c DateStyle=ISO',
        application_name: 'data-api-stand-in',
        // Raw text for every column: the stand-in formats values the way the service does.
        types: { getTypeParser: () => (value: string) => value } as pg.CustomTypesConfig,
      });
      pool.on('error', () => {
        // An idle connection died (for example its database was dropped): the pool replaces it.
      });
      db = { pool, types: undefined, columns: new Map() };
      databases.set(key, db);
    }
    return db;
  };

  const requireString = (body: JsonObject, key: string): string => {
    const value = body[key];
    if (typeof value !== 'string' || value === '') {
      throw badRequest(`${key} is required`);
    }
    return value;
  };

  const transaction = (id: string): Transaction => {
    const tx = transactions.get(id);
    if (!tx) {
      throw new ApiError('TransactionNotFoundException', 404, `Transaction ${id} is not found`);
    }
    tx.timer.refresh();
    return tx;
  };

  const endTransaction = async (id: string, tx: Transaction, sql: string): Promise<string> => {
    transactions.delete(id);
    clearTimeout(tx.timer);
    try {
      await tx.queue.catch(() => {});
      await tx.client.query(sql);
      tx.client.release();
    } catch (e: unknown) {
      tx.client.release(true);
      throw e;
    }
    return sql === 'COMMIT' ? 'Transaction Committed' : 'Rollback Complete';
  };

  /** Runs `work` on the transaction's connection, or on a pooled one. */
  const withClient = async <T>(
    body: JsonObject,
    work: (client: pg.PoolClient, db: Database) => Promise<T>,
    implicitTransaction = false,
  ): Promise<T> => {
    const id = body.transactionId;
    if (typeof id === 'string' && id !== '') {
      const tx = transaction(id);
      const run = tx.queue.catch(() => {}).then(() => work(tx.client, tx.db));
      tx.queue = run;
      try {
        return await run;
      } finally {
        tx.timer.refresh();
      }
    }
    const db = database(body.database);
    const client = await connect(db);
    let broken = false;
    try {
      if (!implicitTransaction) {
        return await work(client, db);
      }
      await client.query('BEGIN');
      try {
        const result = await work(client, db);
        await client.query('COMMIT');
        return result;
      } catch (e: unknown) {
        await client.query('ROLLBACK');
        throw e;
      }
    } catch (e: unknown) {
      broken = !(e instanceof pg.DatabaseError) && !(e instanceof ApiError);
      throw e;
    } finally {
      client.release(broken);
    }
  };

  const execute = async (body: JsonObject): Promise<JsonObject> => {
    requireString(body, 'resourceArn');
    requireString(body, 'secretArn');
    const sql = requireString(body, 'sql');
    const { text, values } = bindParameters(sql, body.parameters);
    const metadata = body.includeResultMetadata === true;
    const asJson = body.formatRecordsAs === 'JSON';
    const resultSetOptions = isObject(body.resultSetOptions) ? body.resultSetOptions : {};
    const resultOptions: ResultOptions = {
      longAsString: resultSetOptions.longReturnType === 'STRING',
      decimalAsNumber: resultSetOptions.decimalReturnType === 'DOUBLE_OR_LONG',
    };
    const limited = (response: JsonObject): JsonObject => {
      if (Buffer.byteLength(JSON.stringify(response)) > MAX_RESPONSE) {
        throw badRequest('Database returned more than the allowed response size limit');
      }
      return response;
    };
    return withClient(body, async (client, db) => {
      const raw = await client.query({
        text,
        ...(values.length > 0 ? { values } : {}),
        rowMode: 'array',
      });
      // Several statements without parameters: JDBC reports the first result.
      const result = (Array.isArray(raw) ? raw[0] : raw) as pg.QueryArrayResult;
      if (result.fields.length === 0) {
        return { numberOfRecordsUpdated: result.rowCount ?? 0, generatedFields: [] };
      }
      // One query at a time on a connection.
      const types: TypeInfo[] = [];
      for (const f of result.fields) {
        types.push(await typeInfo(client, db, f.dataTypeID));
      }
      const response: JsonObject = { numberOfRecordsUpdated: 0 };
      if (asJson) {
        const rows = result.rows.map((row) => {
          const out: JsonObject = {};
          result.fields.forEach((f, i) => {
            out[f.name] = toJsonValue(row[i] as string | null, types[i]!, db, resultOptions);
          });
          return out;
        });
        response.formattedRecords = JSON.stringify(rows);
        return limited(response);
      }
      response.records = result.rows.map((row) =>
        result.fields.map((_, i) => toField(row[i] as string | null, types[i]!, db, resultOptions)),
      );
      if (metadata) {
        const columnMetadata: Json[] = [];
        for (const [i, f] of result.fields.entries()) {
          const type = types[i]!;
          const column = await columnInfo(client, db, f.tableID, f.columnID);
          let typeName = type.name;
          if (column?.autoIncrement) {
            typeName =
              { int4: 'serial', int8: 'bigserial', int2: 'smallserial' }[type.name] ?? typeName;
          }
          const entry: JsonObject = {
            name: f.name,
            label: f.name,
            type: type.category === 'A' ? 2003 : (JDBC_TYPES[type.name] ?? 1111),
            typeName,
            schemaName: column?.schemaName ?? '',
            tableName: column?.tableName ?? '',
            isAutoIncrement: column?.autoIncrement ?? false,
            isSigned:
              INTEGER_TYPES.has(type.name) || FLOAT_TYPES.has(type.name) || type.name === 'numeric',
            isCurrency: type.name === 'money',
            isCaseSensitive: type.category === 'S',
            nullable: column?.nullable ?? 2,
            precision: 0,
            scale: 0,
            arrayBaseColumnType: 0,
          };
          columnMetadata.push(entry);
        }
        response.columnMetadata = columnMetadata;
      }
      return limited(response);
    });
  };

  const batchExecute = async (body: JsonObject): Promise<JsonObject> => {
    requireString(body, 'resourceArn');
    requireString(body, 'secretArn');
    const sql = requireString(body, 'sql');
    const sets = body.parameterSets;
    if (sets !== undefined && !Array.isArray(sets)) {
      throw badRequest('parameterSets must be a list');
    }
    const bound = (sets ?? [[]]).map((set) => bindParameters(sql, set));
    return withClient(
      body,
      async (client) => {
        const updateResults: Json[] = [];
        for (const { text, values } of bound) {
          await client.query({ text, ...(values.length > 0 ? { values } : {}) });
          updateResults.push({ generatedFields: [] });
        }
        return { updateResults };
      },
      true,
    );
  };

  const beginTransaction = async (body: JsonObject): Promise<JsonObject> => {
    requireString(body, 'resourceArn');
    requireString(body, 'secretArn');
    const db = database(body.database);
    const client = await connect(db);
    try {
      await client.query('BEGIN');
    } catch (e: unknown) {
      client.release(true);
      throw e;
    }
    const id = randomBytes(48).toString('base64');
    const timer = setTimeout(() => {
      const tx = transactions.get(id);
      if (tx) {
        endTransaction(id, tx, 'ROLLBACK').catch(() => {});
      }
    }, timeoutMs);
    timer.unref();
    transactions.set(id, { client, db, timer, queue: Promise.resolve() });
    return { transactionId: id };
  };

  const finishTransaction = async (body: JsonObject, sql: string): Promise<JsonObject> => {
    requireString(body, 'resourceArn');
    requireString(body, 'secretArn');
    const id = requireString(body, 'transactionId');
    return { transactionStatus: await endTransaction(id, transaction(id), sql) };
  };

  const routes: Readonly<Record<string, (body: JsonObject) => Promise<JsonObject>>> = {
    '/Execute': execute,
    '/BatchExecute': batchExecute,
    '/BeginTransaction': beginTransaction,
    '/CommitTransaction': (body) => finishTransaction(body, 'COMMIT'),
    '/RollbackTransaction': (body) => finishTransaction(body, 'ROLLBACK'),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (status: number, payload: JsonObject, errorType?: string) => {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-amzn-RequestId': randomUUID(),
      };
      if (errorType) {
        headers['x-amzn-ErrorType'] = errorType;
      }
      res.writeHead(status, headers).end(JSON.stringify(payload));
    };
    try {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const route = routes[path];
      if (req.method !== 'POST' || !route) {
        throw new ApiError(
          'UnknownOperationException',
          404,
          `No operation at ${req.method} ${path}`,
        );
      }
      const body = await readJson(req);
      send(200, await route(body));
    } catch (e: unknown) {
      const error = toApiError(e);
      send(error.status, { message: error.message }, error.type);
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.allSettled(
        [...transactions].map(([id, tx]) => endTransaction(id, tx, 'ROLLBACK')),
      );
      await Promise.allSettled([...databases.values()].map((db) => db.pool.end()));
      databases.clear();
    },
  };
}

async function connect(db: Database): Promise<pg.PoolClient> {
  try {
    return await db.pool.connect();
  } catch (e: unknown) {
    throw toApiError(e);
  }
}

async function readJson(req: IncomingMessage): Promise<JsonObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) {
      throw badRequest('Request size exceeds 4 MiB');
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError('SerializationException', 400, 'Request body is not valid JSON');
  }
  if (!isObject(body)) {
    throw new ApiError('SerializationException', 400, 'Request body must be a JSON object');
  }
  return body;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) {
    return e;
  }
  if (e instanceof pg.DatabaseError) {
    if (e.code === '3D000') {
      return new ApiError('DatabaseNotFoundException', 404, e.message);
    }
    let message = `ERROR: ${e.message}`;
    if (e.detail) message += `\n  Detail: ${e.detail}`;
    if (e.hint) message += `\n  Hint: ${e.hint}`;
    if (e.position) message += `\n  Position: ${e.position}`;
    if (e.where) message += `\n  Where: ${e.where}`;
    return new ApiError('DatabaseErrorException', 400, `${message}; SQLState: ${e.code}`);
  }
  const message = e instanceof Error ? e.message : String(e);
  return new ApiError('InternalServerErrorException', 500, message);
}

/**
 * Rewrites `:name` to `$n` and turns the `SqlParameter` list into typed values.
 *
 * @throws ApiError (BadRequestException) for a missing, duplicate or malformed parameter.
 */
function bindParameters(
  sql: string,
  parameters: Json | undefined,
): { text: string; values: unknown[] } {
  if (parameters !== undefined && !Array.isArray(parameters)) {
    throw badRequest('parameters must be a list');
  }
  const byName = new Map<string, { value: unknown; cast: string | undefined }>();
  for (const p of parameters ?? []) {
    if (!isObject(p) || typeof p.name !== 'string' || p.name === '') {
      throw badRequest('Each parameter needs a name');
    }
    if (byName.has(p.name)) {
      throw badRequest(`Parameter ${p.name} is specified more than once`);
    }
    byName.set(p.name, parameterValue(p));
  }
  const values: unknown[] = [];
  const positions = new Map<string, number>();
  const text = rewriteNamedParameters(sql, (name) => {
    const param = byName.get(name);
    if (!param) {
      throw badRequest(`No value specified for parameter: ${name}`);
    }
    let position = positions.get(name);
    if (position === undefined) {
      values.push(param.value);
      position = values.length;
      positions.set(name, position);
    }
    return param.cast ? `($${position}::${param.cast})` : `$${position}`;
  });
  return { text, values };
}

function parameterValue(p: JsonObject): { value: unknown; cast: string | undefined } {
  const field = p.value;
  if (!isObject(field)) {
    throw badRequest(`Parameter ${p.name} has no value`);
  }
  const keys = Object.keys(field).filter((k) => field[k] !== undefined && field[k] !== null);
  if (keys.length !== 1) {
    throw badRequest(`Parameter ${p.name} must set exactly one value member`);
  }
  const key = keys[0]!;
  const v = field[key];
  const hint = p.typeHint;
  if (hint !== undefined && key !== 'stringValue') {
    throw badRequest(`typeHint applies only to stringValue (parameter ${p.name})`);
  }
  switch (key) {
    case 'isNull':
      if (v !== true) throw badRequest(`Parameter ${p.name}: isNull must be true`);
      return { value: null, cast: undefined };
    case 'stringValue': {
      if (typeof v !== 'string')
        throw badRequest(`Parameter ${p.name}: stringValue must be a string`);
      if (hint === undefined) {
        return { value: v, cast: 'varchar' };
      }
      const rule = typeof hint === 'string' ? HINT_CASTS[hint] : undefined;
      if (!rule) throw badRequest(`Parameter ${p.name}: unknown typeHint ${String(hint)}`);
      if (rule.format && !rule.format.test(v)) {
        throw badRequest(`Parameter ${p.name}: value does not match the ${String(hint)} format`);
      }
      return { value: v, cast: rule.cast };
    }
    case 'longValue':
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw badRequest(`Parameter ${p.name}: longValue must be an integer`);
      }
      return { value: String(v), cast: 'int8' };
    case 'doubleValue':
      if (typeof v !== 'number' && v !== 'NaN' && v !== 'Infinity' && v !== '-Infinity') {
        throw badRequest(`Parameter ${p.name}: doubleValue must be a number`);
      }
      return { value: String(v), cast: 'float8' };
    case 'booleanValue':
      if (typeof v !== 'boolean')
        throw badRequest(`Parameter ${p.name}: booleanValue must be a boolean`);
      return { value: v, cast: 'bool' };
    case 'blobValue':
      if (typeof v !== 'string') throw badRequest(`Parameter ${p.name}: blobValue must be base64`);
      return { value: Buffer.from(v, 'base64'), cast: 'bytea' };
    case 'arrayValue':
      throw badRequest('Array parameters are not supported');
    default:
      throw badRequest(`Parameter ${p.name}: unknown value member ${key}`);
  }
}

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/** Replaces each `:name` outside literals, identifiers, comments and `::` with `replace(name)`. */
function rewriteNamedParameters(sql: string, replace: (name: string) => string): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  const copyTo = (end: number) => {
    out += sql.slice(i, end);
    i = end;
  };
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      const backslashes =
        c === "'" && i > 0 && /[eE]/.test(sql[i - 1]!) && (i < 2 || !IDENT_CHAR.test(sql[i - 2]!));
      let j = i + 1;
      while (j < n) {
        if (backslashes && sql[j] === '\\') {
          j += 2;
        } else if (sql[j] === c) {
          if (sql[j + 1] === c) {
            j += 2;
          } else {
            j += 1;
            break;
          }
        } else {
          j += 1;
        }
      }
      copyTo(Math.min(j, n));
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      copyTo(end < 0 ? n : end);
    } else if (c === '/' && next === '*') {
      let depth = 0;
      let j = i;
      while (j < n) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth += 1;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth -= 1;
          j += 2;
          if (depth === 0) break;
        } else {
          j += 1;
        }
      }
      copyTo(Math.min(j, n));
    } else if (c === '$' && (i === 0 || !IDENT_CHAR.test(sql[i - 1]!))) {
      DOLLAR_TAG.lastIndex = i;
      const tag = DOLLAR_TAG.exec(sql);
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        copyTo(close < 0 ? n : close + tag[0].length);
      } else {
        copyTo(i + 1);
      }
    } else if (c === ':' && next === ':') {
      copyTo(i + 2);
    } else if (c === ':' && next !== undefined && NAME_START.test(next)) {
      let j = i + 2;
      while (j < n && NAME_CHAR.test(sql[j]!)) j += 1;
      out += replace(sql.slice(i + 1, j));
      i = j;
    } else {
      copyTo(i + 1);
    }
  }
  return out;
}

async function typeInfo(client: pg.PoolClient, db: Database, oid: number): Promise<TypeInfo> {
  if (!db.types?.has(oid)) {
    const { rows } = await client.query<{
      oid: string;
      typname: string;
      typelem: string;
      typcategory: string;
    }>('SELECT oid, typname, typelem, typcategory FROM pg_catalog.pg_type');
    db.types = new Map(
      rows.map((r) => [
        Number(r.oid),
        { name: r.typname, elem: Number(r.typelem), category: r.typcategory },
      ]),
    );
  }
  return db.types.get(oid) ?? { name: 'unknown', elem: 0, category: 'X' };
}

async function columnInfo(
  client: pg.PoolClient,
  db: Database,
  tableId: number,
  columnId: number,
): Promise<ColumnInfo | null> {
  if (!tableId || columnId <= 0) {
    return null;
  }
  const key = `${tableId}.${columnId}`;
  if (!db.columns.has(key)) {
    const { rows } = await client.query<{
      relname: string;
      nspname: string;
      attnotnull: string;
      auto: string;
    }>(
      `SELECT c.relname, n.nspname, a.attnotnull,
              (a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%') AS auto
         FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1 AND a.attnum = $2`,
      [tableId, columnId],
    );
    const row = rows[0];
    db.columns.set(
      key,
      row
        ? {
            tableName: row.relname,
            schemaName: row.nspname,
            nullable: row.attnotnull === 't' ? 0 : 1,
            autoIncrement: row.auto === 't',
          }
        : null,
    );
  }
  return db.columns.get(key) ?? null;
}

function formatTimestamptz(text: string): string {
  const m = /^(.*?)([+-]\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(text);
  if (!m || /^[a-z-]+$/i.test(text)) {
    return text;
  }
  if (m[2] === '+00' && !m[3] && !m[4]) {
    return m[1]!;
  }
  // Not a UTC session: convert (to millisecond precision).
  const date = new Date(`${m[1]!.replace(' ', 'T')}${m[2]}:${m[3] ?? '00'}`);
  return Number.isNaN(date.getTime())
    ? text
    : date.toISOString().replace('T', ' ').replace('Z', '');
}

function byteaToBase64(text: string): string {
  if (text.startsWith('\\x')) {
    return Buffer.from(text.slice(2), 'hex').toString('base64');
  }
  return Buffer.from(text, 'latin1').toString('base64');
}

/** Parses a PostgreSQL array literal into nested arrays of element text (or null). */
function parseArrayLiteral(text: string): unknown[] {
  let i = 0;
  // Optional dimension decoration: [1:3]={...}
  if (text[0] === '[') {
    i = text.indexOf('=') + 1;
  }
  const parse = (): unknown[] => {
    const out: unknown[] = [];
    i += 1; // '{'
    while (i < text.length) {
      const c = text[i]!;
      if (c === '}') {
        i += 1;
        return out;
      }
      if (c === ',') {
        i += 1;
      } else if (c === '{') {
        out.push(parse());
      } else if (c === '"') {
        let value = '';
        i += 1;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i += 1;
          value += text[i];
          i += 1;
        }
        i += 1;
        out.push(value);
      } else {
        let j = i;
        while (j < text.length && text[j] !== ',' && text[j] !== '}') j += 1;
        const value = text.slice(i, j).trim();
        out.push(value === 'NULL' ? null : value);
        i = j;
      }
    }
    return out;
  };
  return parse();
}

function scalarText(text: string, type: TypeInfo): string {
  if (type.name === 'timestamptz') return formatTimestamptz(text);
  return text;
}

function toField(text: string | null, type: TypeInfo, db: Database, options: ResultOptions): Json {
  if (text === null) {
    return { isNull: true };
  }
  if (type.category === 'A') {
    const elem = db.types?.get(type.elem) ?? { name: 'text', elem: 0, category: 'S' };
    return { arrayValue: toArrayValue(parseArrayLiteral(text), elem) };
  }
  const name = type.name;
  if (INTEGER_TYPES.has(name)) {
    return options.longAsString ? { stringValue: text } : { longValue: Number(text) };
  }
  if (FLOAT_TYPES.has(name)) {
    return { doubleValue: Number(text) };
  }
  if (name === 'numeric') {
    if (!options.decimalAsNumber) return { stringValue: text };
    return /^-?\d+$/.test(text) ? { longValue: Number(text) } : { doubleValue: Number(text) };
  }
  if (name === 'bool') {
    return { booleanValue: text === 't' };
  }
  if (name === 'bytea') {
    return { blobValue: byteaToBase64(text) };
  }
  return { stringValue: scalarText(text, type) };
}

function toArrayValue(items: unknown[], elem: TypeInfo): Json {
  if (items.some((item) => Array.isArray(item))) {
    return {
      arrayValues: items.map((item) => toArrayValue(Array.isArray(item) ? item : [], elem)),
    };
  }
  const texts = items as (string | null)[];
  if (INTEGER_TYPES.has(elem.name)) {
    return { longValues: texts.map((t) => (t === null ? null : Number(t))) };
  }
  if (FLOAT_TYPES.has(elem.name)) {
    return { doubleValues: texts.map((t) => (t === null ? null : Number(t))) };
  }
  if (elem.name === 'bool') {
    return { booleanValues: texts.map((t) => (t === null ? null : t === 't')) };
  }
  return { stringValues: texts.map((t) => (t === null ? null : scalarText(t, elem))) };
}

function toJsonValue(
  text: string | null,
  type: TypeInfo,
  db: Database,
  options: ResultOptions,
): Json {
  if (text === null) {
    return null;
  }
  if (type.category === 'A') {
    const elem = db.types?.get(type.elem) ?? { name: 'text', elem: 0, category: 'S' };
    const convert = (items: unknown[]): Json[] =>
      items.map((item) =>
        Array.isArray(item) ? convert(item) : toJsonValue(item as string | null, elem, db, options),
      );
    return convert(parseArrayLiteral(text));
  }
  const field = toField(text, type, db, options) as JsonObject;
  if ('longValue' in field) return field.longValue!;
  if ('doubleValue' in field) return field.doubleValue!;
  if ('booleanValue' in field) return field.booleanValue!;
  if ('blobValue' in field) return field.blobValue!;
  return field.stringValue ?? null;
}
