/**
 * Schema 0003, for the admin console (issue 11): when a gateway's state last changed (the
 * gateways view says "down since 10:42"), and indexes for the log filters (user, event,
 * time, keyset paging on `(at, id)`), the per-desktop log lookups of the desktops view (last
 * agent event, the client a desktop was launched from) and the clients view's order.
 */
import { type Kysely, sql } from 'kysely';

const statements = [
  'ALTER TABLE gateway ADD COLUMN status_since timestamptz',
  'UPDATE gateway SET status_since = checked_at WHERE checked_at IS NOT NULL',
  // Keyset paging over (at, id) also serves the purge's `at < cutoff`, which log_at served.
  'CREATE INDEX log_at_id ON log (at, id)',
  'DROP INDEX log_at',
  'CREATE INDEX log_user_at ON log (lower(user_name), at, id)',
  'CREATE INDEX log_event_at ON log (event, at, id)',
  'CREATE INDEX log_desktop ON log (desktop_id, id) WHERE desktop_id IS NOT NULL',
  'CREATE INDEX client_last_seen ON client (last_seen_at, id)',
  'CREATE INDEX client_ip ON client (ip)',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}
