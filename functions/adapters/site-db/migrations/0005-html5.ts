/**
 * Version 0005 (issue 12, desktops in the browser): the public URL of a gateway's HTTP face
 * (and of a cluster's load balancer in front of it), where browsers open their WebSocket.
 */
import { type Kysely, sql } from 'kysely';

const statements = [
  'ALTER TABLE gateway ADD COLUMN web_url text',
  'ALTER TABLE gateway_cluster ADD COLUMN web_url text',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}
