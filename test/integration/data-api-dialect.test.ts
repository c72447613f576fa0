/**
 * The RDS Data API dialect against the Data API stand-in over a fresh PostgreSQL database,
 * through the real `@aws-sdk/client-rds-data` client.
 */
import { randomBytes } from 'node:crypto';
import {
  BatchExecuteStatementCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
} from '@aws-sdk/client-rds-data';
import {
  AbortedTransactionError,
  type ColumnType,
  type Generated,
  Kysely,
  PostgresQueryCompiler,
  sql,
} from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataApiDialect,
  DataApiQueryCompiler,
  DataApiQueryError,
} from '../../functions/adapters/site-db/data-api-dialect.ts';
import { type DataApiServer, startDataApiServer } from '../helpers/data-api-server.ts';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = `deskbroker_dataapi_${randomBytes(6).toString('hex')}`;
const ARNS = {
  resourceArn: 'arn:aws:rds:us-east-1:123456789012:cluster:site',
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:site-abc',
};

interface ThingTable {
  id: number;
  seq: ColumnType<number, never, never>;
  big: number | bigint | null;
  name: string;
  flag: Generated<boolean>;
  doc: ColumnType<unknown, unknown, unknown>;
  at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  note: string | null;
  score: number | null;
  amount: number | null;
  tags: ColumnType<string[] | null, unknown, unknown>;
  data: Buffer | null;
}

interface TestDatabase {
  thing: ThingTable;
}

let server: DataApiServer;
let client: RDSDataClient;
let db: Kysely<TestDatabase>;

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  server = await startDataApiServer({
    connectionString: `postgres://postgres@127.0.0.1:5432/${DATABASE}`,
  });
  client = new RDSDataClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  db = new Kysely<TestDatabase>({
    dialect: new DataApiDialect({ client, ...ARNS, database: DATABASE }),
  });
  await db.schema
    .createTable('thing')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'serial')
    .addColumn('big', 'bigint')
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('flag', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('doc', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('at', 'timestamptz')
    .addColumn('note', 'text')
    .addColumn('score', 'float8')
    .addColumn('amount', 'numeric(10, 2)')
    .addColumn('tags', sql`text[]`)
    .addColumn('data', 'bytea')
    .execute();
});

afterAll(async () => {
  await db?.destroy();
  client?.destroy();
  await server?.close();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
});

/** Each test works on its own id range. */
async function clear(from: number, to: number): Promise<void> {
  await db.deleteFrom('thing').where('id', '>=', from).where('id', '<', to).execute();
}

describe('DataApiDialect', () => {
  it('binds and decodes every column type', async () => {
    const at = new Date('2024-02-29T23:59:58.123Z');
    const doc = { a: 1, nested: { b: [1, 'x', null] }, quote: `it's "quoted"` };
    await db
      .insertInto('thing')
      .values({
        id: 1,
        big: 9_007_199_254_740_991,
        name: 'one',
        flag: true,
        doc,
        at,
        note: null,
        score: 1.25,
        amount: 12.5,
        tags: sql`ARRAY[${'a'}, ${'b,c'}, NULL]::text[]`,
        data: Buffer.from([0, 1, 2, 255]),
      })
      .execute();
    await db
      .insertInto('thing')
      .values({
        id: 2,
        big: null,
        name: 'two',
        flag: false,
        doc: sql`cast(${JSON.stringify([1, 'two'])} as jsonb)`,
        at: null,
        note: 'a note',
        score: null,
        amount: 0.1,
        tags: null,
        data: null,
      })
      .execute();

    const rows = await db
      .selectFrom('thing')
      .selectAll()
      .where('id', 'in', [1, 2])
      .orderBy('id')
      .execute();

    expect(rows).toEqual([
      {
        id: 1,
        seq: expect.any(Number),
        big: 9_007_199_254_740_991,
        name: 'one',
        flag: true,
        doc,
        at,
        note: null,
        score: 1.25,
        amount: 12.5,
        tags: ['a', 'b,c', null],
        data: Buffer.from([0, 1, 2, 255]),
      },
      {
        id: 2,
        seq: expect.any(Number),
        big: null,
        name: 'two',
        flag: false,
        doc: [1, 'two'],
        at: null,
        note: 'a note',
        score: null,
        amount: 0.1,
        tags: null,
        data: null,
      },
    ]);
    expect(rows[0]!.at).toBeInstanceOf(Date);
    expect(rows[0]!.at!.getTime()).toBe(at.getTime());
    expect(rows[1]!.seq).toBe(rows[0]!.seq + 1);

    const [bigintRow] = await db
      .selectFrom('thing')
      .select([sql<number>`${BigInt('12345678901234567890')}::numeric`.as('huge'), 'big'])
      .where('id', '=', 1)
      .execute();
    expect(bigintRow).toEqual({ huge: 12345678901234567000, big: 9_007_199_254_740_991 });
  });

  it('sends a JSON string for a jsonb column as varchar, as Aurora does: the SQL must cast it', async () => {
    const insert = db
      .insertInto('thing')
      .values({ id: 10, name: 'ten', doc: JSON.stringify({ a: 1 }) })
      .execute();
    const error = await insert.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataApiQueryError);
    expect((error as DataApiQueryError).message).toContain(
      'column "doc" is of type jsonb but expression is of type character varying',
    );
    expect((error as DataApiQueryError).code).toBe('42804');

    await db
      .insertInto('thing')
      .values({ id: 10, name: 'ten', doc: sql`cast(${JSON.stringify({ a: 1 })} as jsonb)` })
      .execute();
    const row = await db.selectFrom('thing').select('doc').where('id', '=', 10).executeTakeFirst();
    expect(row?.doc).toEqual({ a: 1 });
    await clear(10, 20);
  });

  it('compares timestamptz columns with Date parameters in UTC', async () => {
    const at = new Date('2023-06-30T22:15:00.001Z');
    await db.insertInto('thing').values({ id: 20, name: 'twenty', at }).execute();
    const equal = await db.selectFrom('thing').select('id').where('at', '=', at).execute();
    expect(equal).toEqual([{ id: 20 }]);
    const later = await db
      .selectFrom('thing')
      .select('id')
      .where('id', '=', 20)
      .where('at', '>', new Date(at.getTime() - 1))
      .where('at', '<', new Date(at.getTime() + 1))
      .execute();
    expect(later).toEqual([{ id: 20 }]);
    const text = await sql<{
      utc: string;
    }>`select to_char(at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') as utc from thing where id = ${20}`.execute(
      db,
    );
    expect(text.rows).toEqual([{ utc: '2023-06-30 22:15:00.001' }]);
    await clear(20, 30);
  });

  it('reports affected rows of insert, update and delete', async () => {
    const inserted = await db
      .insertInto('thing')
      .values([
        { id: 30, name: 'thirty' },
        { id: 31, name: 'thirty-one' },
        { id: 32, name: 'thirty-two' },
      ])
      .executeTakeFirstOrThrow();
    expect(inserted.numInsertedOrUpdatedRows).toBe(3n);

    const updated = await db
      .updateTable('thing')
      .set({ flag: true, note: 'x' })
      .where('id', 'in', [30, 31])
      .executeTakeFirstOrThrow();
    expect(updated.numUpdatedRows).toBe(2n);

    const none = await db
      .updateTable('thing')
      .set({ flag: true })
      .where('id', '=', 999)
      .executeTakeFirstOrThrow();
    expect(none.numUpdatedRows).toBe(0n);

    const deleted = await db
      .deleteFrom('thing')
      .where('id', '>=', 30)
      .where('id', '<', 40)
      .executeTakeFirstOrThrow();
    expect(deleted.numDeletedRows).toBe(3n);

    const raw = await sql`UPDATE thing SET note = ${'y'} WHERE id = ${999}`.execute(db);
    expect(raw.numAffectedRows).toBe(0n);
  });

  it('returns rows from insert, update and delete ... returning', async () => {
    const at = new Date('2025-01-01T00:00:00.000Z');
    const inserted = await db
      .insertInto('thing')
      .values({ id: 40, name: 'forty', at, doc: { k: 'v' } })
      .returning(['id', 'name', 'at', 'doc', 'flag'])
      .executeTakeFirstOrThrow();
    expect(inserted).toEqual({ id: 40, name: 'forty', at, doc: { k: 'v' }, flag: false });

    const updated = await db
      .updateTable('thing')
      .set({ score: 2.5 })
      .where('id', '=', 40)
      .returning(['id', 'score'])
      .execute();
    expect(updated).toEqual([{ id: 40, score: 2.5 }]);

    const deleted = await db.deleteFrom('thing').where('id', '=', 40).returning('name').execute();
    expect(deleted).toEqual([{ name: 'forty' }]);
  });

  it('commits a transaction', async () => {
    const id = await db.transaction().execute(async (trx) => {
      await trx.insertInto('thing').values({ id: 50, name: 'fifty' }).execute();
      const inside = await trx.selectFrom('thing').select('id').where('id', '=', 50).execute();
      expect(inside).toEqual([{ id: 50 }]);
      // Outside the transaction the row is not visible yet.
      const outside = await db.selectFrom('thing').select('id').where('id', '=', 50).execute();
      expect(outside).toEqual([]);
      return 50;
    });
    const after = await db.selectFrom('thing').select('id').where('id', '=', id).execute();
    expect(after).toEqual([{ id: 50 }]);
    await clear(50, 60);
  });

  it('rolls back a transaction whose callback throws', async () => {
    const failure = new Error('stop');
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('thing').values({ id: 60, name: 'sixty' }).execute();
        throw failure;
      }),
    ).rejects.toBe(failure);
    const after = await db.selectFrom('thing').select('id').where('id', '=', 60).execute();
    expect(after).toEqual([]);
  });

  it('refuses to commit a transaction that a failed statement aborted', async () => {
    await db.insertInto('thing').values({ id: 70, name: 'seventy' }).execute();
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('thing').values({ id: 71, name: 'seventy-one' }).execute();
        await trx
          .insertInto('thing')
          .values({ id: 70, name: 'duplicate' })
          .execute()
          .catch(() => {});
      }),
    ).rejects.toBeInstanceOf(AbortedTransactionError);
    const after = await db.selectFrom('thing').select('id').where('id', 'in', [70, 71]).execute();
    expect(after).toEqual([{ id: 70 }]);
    await clear(70, 80);
  });

  it('applies isolation level and savepoints inside a transaction', async () => {
    const level = await db
      .transaction()
      .setIsolationLevel('serializable')
      .execute(async (trx) => {
        const { rows } = await sql<{
          level: string;
        }>`select current_setting('transaction_isolation') as level`.execute(trx);
        return rows[0]?.level;
      });
    expect(level).toBe('serializable');

    const trx = await db.startTransaction().execute();
    await trx.insertInto('thing').values({ id: 80, name: 'eighty' }).execute();
    const afterFirst = await trx.savepoint('after_first').execute();
    await afterFirst
      .insertInto('thing')
      .values({ id: 80, name: 'duplicate' })
      .execute()
      .catch(() => {});
    const recovered = await afterFirst.rollbackToSavepoint('after_first').execute();
    await recovered.insertInto('thing').values({ id: 81, name: 'eighty-one' }).execute();
    await recovered.commit().execute();
    const rows = await db
      .selectFrom('thing')
      .select('id')
      .where('id', '>=', 80)
      .where('id', '<', 90)
      .orderBy('id')
      .execute();
    expect(rows).toEqual([{ id: 80 }, { id: 81 }]);
    await clear(80, 90);
  });

  it('rejects a unique violation with the PostgreSQL message and SQLSTATE', async () => {
    await db.insertInto('thing').values({ id: 90, name: 'ninety' }).execute();
    const error = await db
      .insertInto('thing')
      .values({ id: 91, name: 'ninety' })
      .execute()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(
      'duplicate key value violates unique constraint "thing_name_key"',
    );
    expect((error as Error).message).toContain('Key (name)=(ninety) already exists.');
    expect((error as DataApiQueryError).code).toBe('23505');
    expect((error as Error).cause).toMatchObject({ name: 'DatabaseErrorException' });
    await clear(90, 100);
  });

  it('leaves $n inside literals, identifiers, comments and :: casts alone', async () => {
    const { rows } = await sql<Record<string, unknown>>`
      select '$1' as lit, ${'x'} as param, '7'::int as cast, ${'8'}::int as param_cast,
             ':name' as colon, E'\\'$2' as escaped, $tag$ $1 :p1 $tag$ as dollar,
             1 as "$1", ${9} as "a$1" -- trailing $1 comment
             /* block $1 /* nested :x */ $2 */`.execute(db);
    expect(rows).toEqual([
      {
        lit: '$1',
        param: 'x',
        cast: 7,
        param_cast: 8,
        colon: ':name',
        escaped: "'$2",
        dollar: ' $1 :p1 ',
        $1: 1,
        a$1: 9,
      },
    ]);
  });

  it('compiles parameters as named placeholders, with no SQL re-parsed afterwards', () => {
    const compiled = db
      .selectFrom('thing')
      .select(['id', sql<string>`${'$1 literal'}::text`.as('t')])
      .where('name', '=', 'a')
      .where('id', 'in', [1, 2])
      .compile();

    expect(compiled.sql).toBe(
      'select "id", :p1::text as "t" from "thing" where "name" = :p2 and "id" in (:p3, :p4)',
    );
    expect(compiled.parameters).toEqual(['$1 literal', 'a', 1, 2]);
    expect(new DataApiQueryCompiler()).toBeInstanceOf(PostgresQueryCompiler);
  });

  it('runs concurrent queries', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => 100 + i);
    await Promise.all(
      ids.map((id) =>
        db
          .insertInto('thing')
          .values({ id, name: `n${id}` })
          .execute(),
      ),
    );
    const counts = await Promise.all(
      ids.map((id) =>
        db
          .selectFrom('thing')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('id', '<=', id)
          .where('id', '>=', 100)
          .executeTakeFirstOrThrow(),
      ),
    );
    expect(counts.map((c) => c.n)).toEqual(ids.map((id) => id - 99));
    await clear(100, 200);
  });

  it('introspects tables through PostgresIntrospector', async () => {
    const tables = await db.introspection.getTables();
    const thing = tables.find((t) => t.name === 'thing');
    expect(thing?.columns.map((c) => c.name)).toEqual([
      'id',
      'seq',
      'big',
      'name',
      'flag',
      'doc',
      'at',
      'note',
      'score',
      'amount',
      'tags',
      'data',
    ]);
    expect(thing?.columns.find((c) => c.name === 'seq')?.isAutoIncrementing).toBe(true);
  });

  it('refuses parameters the Data API cannot carry', async () => {
    await expect(
      db
        .selectFrom('thing')
        .select('id')
        .where('note', '=', sql<string>`${['a']}`)
        .execute(),
    ).rejects.toThrow(/no array parameters/);
  });
});

describe('Data API stand-in', () => {
  const base = () => ({ ...ARNS, database: DATABASE });

  it('reports column metadata the way Aurora names types', async () => {
    const out = await client.send(
      new ExecuteStatementCommand({
        ...base(),
        sql: `select 1::int4 as a, 2::int8 as b, 'x'::text as c, true as d, '{}'::jsonb as e,
                     now() as f, ARRAY[1] as g, seq from thing limit 1`,
        includeResultMetadata: true,
      }),
    );
    expect(out.columnMetadata?.map((c) => c.typeName)).toEqual(
      expect.arrayContaining(['int4', 'int8', 'text', 'bool', 'jsonb', 'timestamptz', '_int4']),
    );
    const seq = await client.send(
      new ExecuteStatementCommand({
        ...base(),
        sql: 'select seq from thing',
        includeResultMetadata: true,
      }),
    );
    expect(seq.columnMetadata?.[0]).toMatchObject({
      name: 'seq',
      typeName: 'serial',
      tableName: 'thing',
    });
  });

  it('formats records as JSON on request', async () => {
    const out = await client.send(
      new ExecuteStatementCommand({
        ...base(),
        sql: 'select :n as n, :s as s, null as z',
        parameters: [
          { name: 'n', value: { longValue: 5 } },
          { name: 's', value: { stringValue: 'five' } },
        ],
        formatRecordsAs: 'JSON',
      }),
    );
    expect(out.records).toBeUndefined();
    expect(JSON.parse(out.formattedRecords ?? '')).toEqual([{ n: 5, s: 'five', z: null }]);
  });

  it('checks typeHint formats and casts', async () => {
    const out = await client.send(
      new ExecuteStatementCommand({
        ...base(),
        sql: 'select :t as t, :d as d, :u as u, :j as j, :m as m',
        parameters: [
          { name: 't', value: { stringValue: '2024-01-02 03:04:05.678' }, typeHint: 'TIMESTAMP' },
          { name: 'd', value: { stringValue: '2024-01-02' }, typeHint: 'DATE' },
          {
            name: 'u',
            value: { stringValue: '6f1c1b8e-2a4e-4b5e-9a50-0d1c6f2f6a11' },
            typeHint: 'UUID',
          },
          { name: 'j', value: { stringValue: '{"a": 1}' }, typeHint: 'JSON' },
          { name: 'm', value: { stringValue: '1.50' }, typeHint: 'DECIMAL' },
        ],
        includeResultMetadata: true,
      }),
    );
    expect(out.columnMetadata?.map((c) => c.typeName)).toEqual([
      'timestamp',
      'date',
      'uuid',
      'json',
      'numeric',
    ]);
    expect(out.records?.[0]?.[0]).toEqual({ stringValue: '2024-01-02 03:04:05.678' });
    await expect(
      client.send(
        new ExecuteStatementCommand({
          ...base(),
          sql: 'select :t',
          parameters: [
            { name: 't', value: { stringValue: '2024-01-02T03:04:05Z' }, typeHint: 'TIMESTAMP' },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'BadRequestException' });
  });

  it('rejects a missing parameter and an unknown transaction', async () => {
    await expect(
      client.send(new ExecuteStatementCommand({ ...base(), sql: 'select :missing' })),
    ).rejects.toMatchObject({ name: 'BadRequestException' });
    await expect(
      client.send(new CommitTransactionCommand({ ...ARNS, transactionId: 'no-such-transaction' })),
    ).rejects.toMatchObject({
      name: 'TransactionNotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('rolls back a transaction left idle past the timeout', async () => {
    const quick = await startDataApiServer({
      connectionString: `postgres://postgres@127.0.0.1:5432/${DATABASE}`,
      transactionTimeoutMs: 100,
    });
    const quickClient = new RDSDataClient({
      endpoint: quick.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    try {
      const quickDb = new Kysely<TestDatabase>({
        dialect: new DataApiDialect({ client: quickClient, ...ARNS, database: DATABASE }),
      });
      const trx = await quickDb.startTransaction().execute();
      await trx.insertInto('thing').values({ id: 300, name: 'idle' }).execute();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(trx.selectFrom('thing').select('id').execute()).rejects.toMatchObject({
        name: 'TransactionNotFoundException',
      });
      await trx.rollback().execute();
      const rows = await db.selectFrom('thing').select('id').where('id', '=', 300).execute();
      expect(rows).toEqual([]);
    } finally {
      quickClient.destroy();
      await quick.close();
    }
  });

  it('runs a batch over parameter sets', async () => {
    const out = await client.send(
      new BatchExecuteStatementCommand({
        ...base(),
        sql: 'insert into thing (id, name) values (:id, :name)',
        parameterSets: [200, 201, 202].map((id) => [
          { name: 'id', value: { longValue: id } },
          { name: 'name', value: { stringValue: `batch${id}` } },
        ]),
      }),
    );
    expect(out.updateResults).toHaveLength(3);
    const rows = await db
      .selectFrom('thing')
      .select('name')
      .where('id', '>=', 200)
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.name)).toEqual(['batch200', 'batch201', 'batch202']);
    await clear(200, 300);
  });
});
