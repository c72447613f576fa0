/**
 * The `deskbroker` command. Each sub-command lives in ./commands/; this file reads the
 * arguments and the environment, and reports errors as one clear line.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../../config.ts';
import { AppError } from '../../core/errors.ts';
import { DataLockedError } from '../data-lock.ts';
import { commands, usage } from './index.ts';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return 0;
  }
  if (name === '--version' || name === 'version') {
    const { VERSION } = await import('../../compose.ts');
    console.log(VERSION);
    return 0;
  }
  // `db switch` and `db migrate` are two words.
  const key = name === 'db' && rest[0] && !rest[0].startsWith('-') ? `db ${rest.shift()}` : name;
  const command = commands[key];
  if (!command) {
    console.error(`deskbroker: unknown command "${key}"\n\n${usage()}`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: command.options,
      allowPositionals: true,
      strict: true,
    });
  } catch (e: unknown) {
    console.error(
      `deskbroker ${key}: ${(e as Error).message}\n\nusage: deskbroker ${command.usage}`,
    );
    return 2;
  }
  return command.run(
    parsed.values as Record<string, string | boolean | undefined>,
    parsed.positionals,
    process.env,
  );
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Errors are shown as one line; DESKBROKER_DEBUG=1 adds the stack of unexpected ones.
    const known = e instanceof ConfigError || e instanceof AppError || e instanceof DataLockedError;
    const message = e instanceof Error ? e.message : String(e);
    const stack =
      !known && process.env.DESKBROKER_DEBUG && e instanceof Error ? `\n${e.stack}` : '';
    console.error(`deskbroker: ${message}${stack}`);
    process.exitCode = 1;
  },
);
