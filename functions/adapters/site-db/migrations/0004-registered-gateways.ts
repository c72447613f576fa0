/**
 * Version 0004 (issue 13): gateways that register themselves. A forward records its gateway's
 * name, and the id only for a gateway of the site configuration (a registered gateway has no
 * row in `gateway`); a gateway cluster may name a tag whose registered gateways are members.
 */
import { type Kysely, sql } from 'kysely';

const statements = [
  'ALTER TABLE gateway_forward ADD COLUMN gateway_name text',
  `UPDATE gateway_forward f SET gateway_name = g.name FROM gateway g WHERE g.id = f.gateway_id`,
  'ALTER TABLE gateway_forward ALTER COLUMN gateway_name SET NOT NULL',
  'ALTER TABLE gateway_forward ALTER COLUMN gateway_id DROP NOT NULL',
  `CREATE UNIQUE INDEX gateway_forward_port_live_registered
    ON gateway_forward (lower(gateway_name), listen_port)
    WHERE deleted_at IS NULL AND gateway_id IS NULL`,
  'ALTER TABLE gateway_cluster ADD COLUMN tag text',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}
