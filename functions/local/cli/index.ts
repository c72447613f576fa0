/**
 * The sub-commands of `deskbroker` (the entry point is ./main.ts).
 */
import { applyCommand, exportCommand } from './config-commands.ts';
import { migrateCommand } from './db-commands.ts';
import { switchCommand } from './db-switch.ts';
import { leasesCommand } from './leases.ts';
import { secretsCommand } from './secrets.ts';
import { serveCommand } from './serve.ts';
import type { Command } from './shared.ts';
import { stateServerCommand } from './state-server.ts';

export type { Command };

export const commands: Record<string, Command> = {
  serve: serveCommand,
  apply: applyCommand,
  export: exportCommand,
  'db migrate': migrateCommand,
  'db switch': switchCommand,
  'state-server': stateServerCommand,
  leases: leasesCommand,
  secrets: secretsCommand,
};

export function usage(): string {
  const lines = Object.values(commands).map((c) => `  deskbroker ${c.usage}\n      ${c.summary}`);
  return `deskbroker: a remote-desktop connection broker\n\nCommands:\n${lines.join('\n')}\n\nEnvironment variables are listed in the README; flags override them.`;
}
