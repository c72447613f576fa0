/**
 * Schema version 0006 (issue 14, second half; its first half took 0002): a desktop's own
 * ports, by protocol, overriding the ports of the protocol plan it is offered with (two VNC
 * displays on one host, desktops behind NAT).
 * `{}` for every existing desktop: nothing changes until a configuration gives ports.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE desktop ADD COLUMN ports jsonb NOT NULL DEFAULT '{}'`.execute(db);
}
