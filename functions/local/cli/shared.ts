/**
 * What every sub-command shares: its shape, and the flags that pick the site database.
 */
import type { ParseArgsConfig } from 'node:util';

export interface Command {
  readonly usage: string;
  readonly summary: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  run(
    flags: Record<string, string | boolean | undefined>,
    positionals: string[],
    env: NodeJS.ProcessEnv,
  ): Promise<number>;
}

/** Flags that pick the database and site, shared by the commands that open the site database. */
export const siteFlags = {
  db: { type: 'string' },
  'site-id': { type: 'string' },
} as const;

/** The environment with the shared flags applied. */
export function envWithFlags(
  env: NodeJS.ProcessEnv,
  flags: Record<string, string | boolean | undefined>,
): NodeJS.ProcessEnv {
  const out = { ...env };
  if (typeof flags.db === 'string') out.SITE_DB_URL = flags.db;
  if (typeof flags['site-id'] === 'string') out.SITE_ID = flags['site-id'];
  if (typeof flags.port === 'string') out.PORT = flags.port;
  if (typeof flags.host === 'string') out.HOST = flags.host;
  return out;
}
