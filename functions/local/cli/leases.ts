/**
 * `deskbroker leases list|rebuild`: the connection leases of the site. `rebuild` re-creates
 * them from the site database's hard assignments and mirrors what leased mode needs (Citrix's
 * Update-BrokerLocalLeaseCache).
 */
import { loadConfig } from '../../config.ts';
import { rebuildLeases } from '../../core/leasing/upkeep.ts';
import { openLocal } from '../runtime.ts';
import { type Command, envWithFlags, siteFlags } from './shared.ts';

export const leasesCommand: Command = {
  usage: 'leases list [--user NAME] | leases rebuild   [--db URL]',
  summary:
    'list the connection leases, or rebuild them from the hard assignments in the site database',
  options: { ...siteFlags, user: { type: 'string' } },
  async run(flags, positionals, env) {
    const action = positionals[0];
    if (action !== 'list' && action !== 'rebuild') {
      console.error(`deskbroker leases: say list or rebuild\n\nusage: deskbroker ${this.usage}`);
      return 2;
    }
    const local = await openLocal(loadConfig(envWithFlags(env, flags)));
    try {
      const { broker } = local;
      if (action === 'rebuild') {
        const result = await rebuildLeases(broker.leasing.upkeep);
        console.log(
          `leases rebuilt: ${result.leases} lease(s), ${result.accounts} account verifier(s), ${result.agentKeys} agent key(s) mirrored`,
        );
        return 0;
      }
      const user = typeof flags.user === 'string' ? flags.user : undefined;
      const leases = await broker.leasing.leases.list({ user }, broker.clock.now());
      if (leases.length === 0) console.log('no leases');
      for (const l of leases) {
        console.log(
          `${l.user.padEnd(20)} ${l.desktopName.padEnd(20)} ${l.launch.protocol.padEnd(6)} last launch ${new Date(l.lastLaunchAt).toISOString()}  expires ${new Date(l.expiresAt).toISOString()}`,
        );
      }
      return 0;
    } finally {
      await local.close();
    }
  },
};
