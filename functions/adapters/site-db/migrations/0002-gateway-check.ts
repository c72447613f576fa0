/**
 * Schema 0002-gateway-check: what the `check_gateway` job last heard from each gateway
 * (`GET /info`): its version and the port range it forwards on, so a range that disagrees with
 * `gateways[].portRange` of the site configuration shows in the log and the admin view.
 */
import { type Kysely, sql } from 'kysely';

const statements = [
  `ALTER TABLE gateway
    ADD COLUMN reported_port_from integer,
    ADD COLUMN reported_port_to integer,
    ADD COLUMN reported_version text`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}
