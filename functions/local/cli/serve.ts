/**
 * `deskbroker serve`: the whole broker in one process, until Ctrl-C or SIGTERM.
 */
import { loadConfig } from '../../config.ts';
import { DEMO_USERS } from '../demo-data.ts';
import { startLocalBroker } from '../runtime.ts';
import { type Command, envWithFlags, siteFlags } from './shared.ts';

export const serveCommand: Command = {
  usage: 'serve [--port 8080] [--host 127.0.0.1] [--db URL] [--site-id N] [--no-demo]',
  summary: 'run the broker locally (embedded database and state table unless told otherwise)',
  options: {
    ...siteFlags,
    port: { type: 'string' },
    host: { type: 'string' },
    'no-demo': { type: 'boolean' },
  },
  async run(flags, _positionals, env) {
    const config = loadConfig(envWithFlags(env, flags));
    const local = await startLocalBroker(config, { demo: !flags['no-demo'] });
    const { startup, url } = local;
    const hasDemo = (await local.broker.accounts.findLocalAccount('alice', 'local')) !== undefined;
    const lines = [
      `deskbroker ${local.broker.version} is running (site ID ${config.siteId})`,
      ...(startup.pages
        ? [`  portal     ${url}/`, `  console    ${url}/admin`]
        : [`  portal     not built: run npm run build:web (npm start does it)`]),
      `  API        ${url}/api/v1/  (OpenAPI: ${url}/api/v1/openapi.json)`,
      `  health     ${url}/index.pl?action=is_alive`,
      `  database   ${startup.database}${startup.createdSite ? ' (new site)' : ''}`,
    ];
    if (startup.generatedAdminPassword) {
      lines.push(
        `  admin      admin / ${startup.generatedAdminPassword}   (shown once: keep it, or set DESKBROKER_ADMIN_PASSWORD on a new site)`,
      );
    } else if (startup.createdAdmin) {
      lines.push('  admin      admin / the password in DESKBROKER_ADMIN_PASSWORD');
    } else {
      lines.push('  admin      admin (password set on first start)');
    }
    if (hasDemo) {
      lines.push(`  demo users ${DEMO_USERS.map((u) => `${u.name} / ${u.password}`).join(', ')}`);
    }
    lines.push('Press Ctrl-C to stop.');
    console.log(lines.join('\n'));

    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          console.error(`deskbroker: ${signal} again, exiting now`);
          process.exit(1);
        }
        stopping = true;
        console.log(`deskbroker: ${signal} received, stopping...`);
        local.stop().then(
          () => {
            console.log('deskbroker: stopped');
            resolve();
          },
          (e: unknown) => {
            console.error(`deskbroker: error while stopping: ${(e as Error).message}`);
            resolve();
          },
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    return 0;
  },
};
