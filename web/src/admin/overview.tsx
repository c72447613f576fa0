/**
 * The overview: the cluster (the guide's Cluster Management page, with Remove for a Stopped
 * or Unavailable broker), the active site database, the job queue in numbers and its list
 * (the Job Queue page, filtered and paged), the gateways and how full each pool is.
 */
import { adminApi, type Broker } from '../shared/admin-api.ts';
import { ActionButton, DataState, ViewHeader, When } from './components.tsx';
import { GatewayStatus } from './gateways.tsx';
import { JobsSection } from './jobs.tsx';
import { PoolUsageTable } from './pools.tsx';
import { href } from './router.ts';
import { useData } from './use-data.ts';

const STATUS_CLASS: Record<Broker['status'], string> = {
  Running: 'ok',
  Stopped: 'neutral',
  Unavailable: 'danger',
};

export function OverviewView(props: { readonly params: URLSearchParams }) {
  const cluster = useData('cluster', () => adminApi.cluster());
  const pools = useData('pools-overview', () => adminApi.pools({ limit: '10' }));
  const gateways = useData('gateways-overview', () => adminApi.gateways({ limit: '10' }));

  return (
    <>
      <ViewHeader title="Overview" data={cluster} />
      <section class="card" aria-labelledby="brokers">
        <h2 id="brokers">Brokers</h2>
        <DataState data={cluster} what="brokers" />
        {cluster.data && (
          <>
            <p>
              Site database: <strong>{cluster.data.database.active}</strong> (
              <code>{cluster.data.database.target}</code>)
              {cluster.data.database.secondaryConfigured
                ? ', with a failover database configured'
                : ', no failover database'}
              . Heartbeat every {cluster.data.heartbeatSeconds} s; a broker that misses three is
              Unavailable. Leased mode: <strong>no</strong>, the site database answers.
            </p>
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Brokers of the cluster</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Address</th>
                    <th scope="col">Status</th>
                    <th scope="col">Version</th>
                    <th scope="col">Site ID</th>
                    <th scope="col">Booted</th>
                    <th scope="col">Last heartbeat</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {cluster.data.brokers.map((b) => (
                    <tr key={b.siteId}>
                      <th scope="row">
                        {b.name}
                        {b.self && <span class="muted"> (this broker)</span>}
                      </th>
                      <td>{b.address}</td>
                      <td>
                        <span class={`badge ${STATUS_CLASS[b.status]}`}>{b.status}</span>
                      </td>
                      <td>{b.version}</td>
                      <td>{b.siteId}</td>
                      <td>
                        <When iso={b.bootedAt} />
                      </td>
                      <td>
                        <When iso={b.heartbeatAt} />
                      </td>
                      <td>
                        {b.status !== 'Running' && (
                          <ActionButton
                            label="Remove"
                            busyLabel="Removing…"
                            tone="danger"
                            confirm={`Remove broker ${b.name} (site ID ${b.siteId}) from the cluster?`}
                            run={async () => {
                              const r = await adminApi.removeBroker(b.siteId);
                              return `Broker ${b.name} removed; ${r.reassignedJobs} pending jobs went to the other brokers.`;
                            }}
                            onDone={cluster.reload}
                          />
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>

      <section class="card" aria-labelledby="pool-usage">
        <h2 id="pool-usage">Pool usage</h2>
        <DataState data={pools} what="pools" />
        {pools.data && <PoolUsageTable pools={pools.data.pools} />}
        {pools.data?.nextCursor && (
          <p>
            <a href={href('pools')}>All pools</a>
          </p>
        )}
      </section>
      <section class="card" aria-labelledby="gateways-overview">
        <h2 id="gateways-overview">Gateways</h2>
        <DataState data={gateways} what="gateways" />
        {gateways.data && gateways.data.gateways.length === 0 && (
          <p class="muted">This site has no gateways: desktops are reached directly.</p>
        )}
        {gateways.data && gateways.data.gateways.length > 0 && (
          <ul class="plain">
            {gateways.data.gateways.map((g) => (
              <li key={g.name}>
                <strong>{g.name}</strong> <GatewayStatus gateway={g} />
                {' · '}
                {g.forwardsOpen} forward{g.forwardsOpen === 1 ? '' : 's'} open
              </li>
            ))}
          </ul>
        )}
        <p>
          <a href={href('gateways')}>Gateway details</a>
        </p>
      </section>
      <JobsSection params={props.params} />
    </>
  );
}
