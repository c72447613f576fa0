/**
 * Kysely dialect for Aurora PostgreSQL through the RDS Data API (`@aws-sdk/client-rds-data`).
 * SQL is compiled by Kysely's PostgreSQL compiler with one change made at its extension point:
 * parameters are written as the Data API's named placeholders (`:p1`, `:p2`, ...) as the query
 * is compiled, so nothing re-parses SQL text afterwards. The driver binds the values as Data
 * API `Field`s under those names and decodes result records by column type.
 *
 * Binding rules worth knowing when writing queries for this dialect:
 * - A string parameter reaches PostgreSQL as `character varying`, not as an untyped literal.
 *   PostgreSQL has no implicit cast from varchar to `jsonb`, `uuid`, `timestamptz`, `numeric`
 *   or integer columns, so a JSON *string* for a `jsonb` column needs a cast in the SQL
 *   (`cast(${json} as jsonb)`), or pass a plain object, which is sent with `typeHint: 'JSON'`;
 *   numbers and dates must be passed as numbers and `Date`s, not as strings.
 * - A `Date` is sent as a UTC `timestamp` (typeHint TIMESTAMP); stored into `timestamptz` it is
 *   read in the session time zone, which is UTC on Aurora unless the cluster changes it.
 * - Arrays cannot be parameters (the Data API rejects them); serialize them to JSON.
 */
import {
  BeginTransactionCommand,
  type ColumnMetadata,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandOutput,
  type Field,
  type RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import {
  AbortedTransactionError,
  type CompiledQuery,
  createQueryId,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  IdentifierNode,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  RawNode,
  type TransactionSettings,
} from 'kysely';

/** Where and as whom the Data API runs statements. */
export interface DataApiDialectConfig {
  /** The SDK client; the dialect never destroys it. */
  readonly client: RDSDataClient;
  /** ARN of the Aurora cluster. */
  readonly resourceArn: string;
  /** ARN of the Secrets Manager secret with the database credentials. */
  readonly secretArn: string;
  /** Database name inside the cluster. */
  readonly database: string;
}

/**
 * A statement the database rejected. `message` is the Data API's text, which carries the
 * PostgreSQL message (`ERROR: duplicate key value violates unique constraint ...`).
 */
export class DataApiQueryError extends Error {
  /**
   * The SQLSTATE (`23505` for a unique violation), taken from the message's `SQLState: `
   * part or recognised from its wording; undefined when neither tells.
   */
  readonly code: string | undefined;

  constructor(message: string, code: string | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'DataApiQueryError';
    this.code = code;
  }
}

/**
 * Kysely dialect over the RDS Data API, with PostgreSQL's compiler, adapter and introspector.
 *
 * ```ts
 * const db = new Kysely<SiteDatabase>({
 *   dialect: new DataApiDialect({ client: new RDSDataClient({}), resourceArn, secretArn, database }),
 * });
 * ```
 */
export class DataApiDialect implements Dialect {
  readonly #config: DataApiDialectConfig;

  constructor(config: DataApiDialectConfig) {
    this.#config = { ...config };
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new DataApiDriver(this.#config);
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }

  createQueryCompiler(): QueryCompiler {
    return new DataApiQueryCompiler();
  }
}

/**
 * PostgreSQL's compiler, writing each parameter as `:p<n>` (the name {@link toSqlParameter}
 * binds it under) instead of `$<n>`. Kysely's documented extension point for a dialect's
 * placeholders; raw `sql` templates compile through it too.
 */
export class DataApiQueryCompiler extends PostgresQueryCompiler {
  protected override getCurrentParameterPlaceholder(): string {
    return `:p${this.numParameters}`;
  }
}

class DataApiDriver implements Driver {
  readonly #config: DataApiDialectConfig;

  constructor(config: DataApiDialectConfig) {
    this.#config = config;
  }

  async init(): Promise<void> {}

  /** A fresh connection object each time: the Data API is stateless HTTP. */
  async acquireConnection(): Promise<DatabaseConnection> {
    return new DataApiConnection(this.#config);
  }

  async beginTransaction(
    connection: DatabaseConnection,
    settings: TransactionSettings,
  ): Promise<void> {
    await (connection as DataApiConnection).begin(settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as DataApiConnection).commit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as DataApiConnection).rollback();
  }

  async savepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await (connection as DataApiConnection).savepointCommand(
      'savepoint',
      savepointName,
      compileQuery,
    );
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await (connection as DataApiConnection).savepointCommand(
      'rollback to',
      savepointName,
      compileQuery,
    );
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await (connection as DataApiConnection).savepointCommand(
      'release',
      savepointName,
      compileQuery,
    );
  }

  async releaseConnection(): Promise<void> {}

  /** Nothing to release: the SDK client belongs to the caller. */
  async destroy(): Promise<void> {}
}

const DML_KINDS = new Set([
  'InsertQueryNode',
  'UpdateQueryNode',
  'DeleteQueryNode',
  'MergeQueryNode',
]);
const RAW_DML = /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(insert|update|delete|merge)\b/i;

class DataApiConnection implements DatabaseConnection {
  readonly #config: DataApiDialectConfig;
  #transactionId: string | undefined;
  /** A statement failed inside the transaction: PostgreSQL will not commit it. */
  #aborted = false;

  constructor(config: DataApiDialectConfig) {
    this.#config = config;
  }

  async executeQuery<R>(
    compiledQuery: CompiledQuery,
    options?: { readonly signal?: AbortSignal | undefined },
  ): Promise<QueryResult<R>> {
    const output = await this.#execute(
      compiledQuery.sql,
      compiledQuery.parameters,
      options?.signal,
    );
    const columns = output.columnMetadata ?? [];
    const rows = decodeRecords(output.records ?? [], columns) as R[];
    const isDml =
      DML_KINDS.has(compiledQuery.query.kind) ||
      (compiledQuery.query.kind === 'RawNode' && RAW_DML.test(compiledQuery.sql));
    if (!isDml) {
      return { rows };
    }
    const affected = columns.length > 0 ? rows.length : (output.numberOfRecordsUpdated ?? 0);
    return { rows, numAffectedRows: BigInt(affected) };
  }

  /** The Data API has no cursors: runs the statement once and hands out the rows in chunks. */
  async *streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize: number,
    options?: { readonly signal?: AbortSignal | undefined },
  ): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(compiledQuery, options);
    const size = Math.max(1, chunkSize);
    for (let i = 0; i < rows.length; i += size) {
      yield { rows: rows.slice(i, i + size) };
    }
  }

  async begin(settings: TransactionSettings): Promise<void> {
    if (this.#transactionId) {
      throw new Error('a Data API transaction is already open on this connection');
    }
    const { resourceArn, secretArn, database } = this.#config;
    const output = await this.#config.client.send(
      new BeginTransactionCommand({ resourceArn, secretArn, database }),
    );
    if (!output.transactionId) {
      throw new Error('the Data API returned no transactionId');
    }
    this.#transactionId = output.transactionId;
    this.#aborted = false;
    if (settings.isolationLevel || settings.accessMode) {
      let sql = 'set transaction';
      if (settings.isolationLevel) sql += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) sql += ` ${settings.accessMode}`;
      try {
        await this.#execute(sql, []);
      } catch (e: unknown) {
        await this.rollback().catch(() => {});
        throw e;
      }
    }
  }

  /**
   * Commits the open transaction.
   *
   * @throws AbortedTransactionError when a failed statement left the transaction aborted (it is
   *   rolled back instead). Other failures keep the transaction id so a rollback can follow.
   */
  async commit(): Promise<void> {
    const transactionId = this.#requireTransaction();
    if (this.#aborted) {
      await this.rollback();
      throw new AbortedTransactionError();
    }
    const { resourceArn, secretArn } = this.#config;
    const output = await this.#config.client.send(
      new CommitTransactionCommand({ resourceArn, secretArn, transactionId }),
    );
    this.#transactionId = undefined;
    if (output.transactionStatus && /rollback|rolled back/i.test(output.transactionStatus)) {
      throw new AbortedTransactionError();
    }
  }

  /**
   * Rolls back the open transaction; does nothing when none is open or the Data API no longer
   * knows it (it rolls back transactions idle for three minutes).
   */
  async rollback(): Promise<void> {
    const transactionId = this.#transactionId;
    if (!transactionId) {
      return;
    }
    const { resourceArn, secretArn } = this.#config;
    try {
      await this.#config.client.send(
        new RollbackTransactionCommand({ resourceArn, secretArn, transactionId }),
      );
    } catch (e: unknown) {
      if (!(e instanceof Error && e.name === 'TransactionNotFoundException')) {
        throw e;
      }
    } finally {
      this.#transactionId = undefined;
      this.#aborted = false;
    }
  }

  async savepointCommand(
    command: 'savepoint' | 'rollback to' | 'release',
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    this.#requireTransaction();
    const node = RawNode.createWithChildren([
      RawNode.createWithSql(`${command} `),
      IdentifierNode.create(savepointName),
    ]);
    const compiled = compileQuery(node, createQueryId());
    await this.#execute(compiled.sql, compiled.parameters);
    if (command === 'rollback to') {
      this.#aborted = false;
    }
  }

  #requireTransaction(): string {
    if (!this.#transactionId) {
      throw new Error('no Data API transaction is open on this connection');
    }
    return this.#transactionId;
  }

  async #execute(
    sql: string,
    parameters: readonly unknown[],
    signal?: AbortSignal,
  ): Promise<ExecuteStatementCommandOutput> {
    const { client, resourceArn, secretArn, database } = this.#config;
    const command = new ExecuteStatementCommand({
      resourceArn,
      secretArn,
      database,
      sql,
      parameters: parameters.map((value, i) => toSqlParameter(`p${i + 1}`, value)),
      transactionId: this.#transactionId,
      includeResultMetadata: true,
    });
    try {
      return await client.send(command, signal ? { abortSignal: signal } : {});
    } catch (e: unknown) {
      if (this.#transactionId) {
        this.#aborted = true;
      }
      throw toQueryError(e);
    }
  }
}

const SQLSTATE_BY_WORDING: readonly [RegExp, string][] = [
  [/duplicate key value violates unique constraint/i, '23505'],
  [/violates foreign key constraint/i, '23503'],
  [/violates not-null constraint/i, '23502'],
  [/violates check constraint/i, '23514'],
  [/violates exclusion constraint/i, '23P01'],
  [/could not serialize access/i, '40001'],
  [/deadlock detected/i, '40P01'],
];

function toQueryError(e: unknown): unknown {
  if (!(e instanceof Error)) {
    return e;
  }
  const isSqlError =
    e.name === 'DatabaseErrorException' ||
    (e.name === 'BadRequestException' && /^ERROR:/.test(e.message));
  if (!isSqlError) {
    return e;
  }
  const code =
    /SQLState: ([0-9A-Z]{5})/.exec(e.message)?.[1] ??
    SQLSTATE_BY_WORDING.find(([pattern]) => pattern.test(e.message))?.[1];
  return new DataApiQueryError(e.message, code, e);
}

/**
 * One Kysely parameter as a Data API `SqlParameter`.
 *
 * @throws TypeError for values the Data API cannot take (arrays, functions, symbols, invalid
 *   dates); RangeError for a Date outside years 1 to 9999.
 */
function toSqlParameter(name: string, value: unknown): SqlParameter {
  if (value === null || value === undefined) {
    return { name, value: { isNull: true } };
  }
  switch (typeof value) {
    case 'string':
      return { name, value: { stringValue: value } };
    case 'number':
      return Number.isSafeInteger(value)
        ? { name, value: { longValue: value } }
        : { name, value: { doubleValue: value } };
    case 'boolean':
      return { name, value: { booleanValue: value } };
    case 'bigint':
      // longValue is a JavaScript number: larger values go as an exact numeric.
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? { name, value: { longValue: Number(value) } }
        : { name, value: { stringValue: value.toString() }, typeHint: 'DECIMAL' };
    case 'object':
      break;
    default:
      throw new TypeError(`the Data API cannot bind a ${typeof value} parameter (${name})`);
  }
  if (value instanceof Date) {
    return { name, value: { stringValue: formatTimestamp(value) }, typeHint: 'TIMESTAMP' };
  }
  if (value instanceof Uint8Array) {
    return { name, value: { blobValue: value } };
  }
  if (Array.isArray(value)) {
    throw new TypeError(
      `the Data API takes no array parameters (${name}): serialize it with JSON.stringify and cast`,
    );
  }
  return { name, value: { stringValue: JSON.stringify(value) }, typeHint: 'JSON' };
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC, the Data API's TIMESTAMP format. */
function formatTimestamp(date: Date): string {
  const time = date.getTime();
  if (Number.isNaN(time)) {
    throw new TypeError('invalid Date parameter');
  }
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) {
    throw new RangeError(`Date parameter out of range: ${date.toISOString()}`);
  }
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

const INTEGER_TYPES = new Set([
  'int2',
  'int4',
  'int8',
  'serial',
  'serial2',
  'serial4',
  'serial8',
  'smallserial',
  'bigserial',
  'smallint',
  'integer',
  'bigint',
  'oid',
]);
const DECIMAL_TYPES = new Set([
  'float4',
  'float8',
  'numeric',
  'decimal',
  'real',
  'double precision',
]);
const BOOLEAN_TYPES = new Set(['bool', 'boolean']);
const JSON_TYPES = new Set(['json', 'jsonb']);
const TIMESTAMP_TYPES = new Set([
  'timestamptz',
  'timestamp',
  'date',
  'timestamp with time zone',
  'timestamp without time zone',
]);

function decodeRecords(records: Field[][], columns: ColumnMetadata[]): Record<string, unknown>[] {
  const names = columns.map((c, i) => c.label || c.name || `?column?${i}`);
  const types = columns.map((c) => (c.typeName ?? '').toLowerCase().replaceAll('"', ''));
  return records.map((record) => {
    const row: Record<string, unknown> = {};
    record.forEach((field, i) => {
      row[names[i] ?? `?column?${i}`] = decodeField(field, types[i] ?? '');
    });
    return row;
  });
}

function decodeField(field: Field, typeName: string): unknown {
  if (field.isNull) return null;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.blobValue !== undefined) {
    const blob = field.blobValue;
    return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  }
  if (field.stringValue !== undefined) return decodeString(field.stringValue, typeName);
  if (field.arrayValue !== undefined) {
    return decodeArray(field.arrayValue, typeName.startsWith('_') ? typeName.slice(1) : typeName);
  }
  return null;
}

type ArrayValue = NonNullable<Field['arrayValue']>;

function decodeArray(array: ArrayValue, elementType: string): unknown[] {
  if (array.arrayValues)
    return array.arrayValues.map((a) => (a ? decodeArray(a, elementType) : null));
  if (array.longValues) return array.longValues.map((v) => v ?? null);
  if (array.doubleValues) return array.doubleValues.map((v) => v ?? null);
  if (array.booleanValues) return array.booleanValues.map((v) => v ?? null);
  if (array.stringValues) {
    return array.stringValues.map((v) =>
      v === null || v === undefined ? null : decodeString(v, elementType),
    );
  }
  return [];
}

function decodeString(value: string, typeName: string): unknown {
  if (INTEGER_TYPES.has(typeName) || DECIMAL_TYPES.has(typeName)) {
    return Number(value);
  }
  if (BOOLEAN_TYPES.has(typeName)) {
    return value === 't' || value === 'true';
  }
  if (JSON_TYPES.has(typeName)) {
    return JSON.parse(value);
  }
  if (TIMESTAMP_TYPES.has(typeName)) {
    return parseTimestamp(value);
  }
  return value;
}

const TIMESTAMP_TEXT =
  /^(\d{4,})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?)?(\s+BC)?$/i;

/** A timestamp or date as the Data API prints it, read as UTC unless it names an offset. */
function parseTimestamp(value: string): Date | number | string {
  if (value === 'infinity') return Number.POSITIVE_INFINITY;
  if (value === '-infinity') return Number.NEGATIVE_INFINITY;
  const m = TIMESTAMP_TEXT.exec(value);
  if (!m) {
    return value;
  }
  let year = Number(m[1]);
  if (m[9]) year = 1 - year;
  const millis = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const date = new Date(0);
  date.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  date.setUTCHours(Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), millis);
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replaceAll(':', '');
    const seconds =
      Number(digits.slice(0, 2)) * 3600 +
      Number(digits.slice(2, 4) || 0) * 60 +
      Number(digits.slice(4, 6) || 0);
    date.setTime(date.getTime() - sign * seconds * 1000);
  }
  return date;
}
