/**
 * Gateways: those of the site configuration (up or down and since when, what they reported,
 * forwards open, clusters) and those that registered themselves (live or dropped, their last
 * renewal, their own counters, tags).
 */
import {
  adminApi,
  type ConfiguredGateway,
  type Gateway,
  type RegisteredGateway,
} from '../shared/admin-api.ts';
import { DataState, Pager, ViewHeader, When } from './components.tsx';
import { useData } from './use-data.ts';

const LABEL: Record<Gateway['status'], string> = {
  up: 'Up',
  down: 'Down',
  unknown: 'Not checked yet',
  live: 'Live',
  dropped: 'Dropped',
};
const CLASS: Record<Gateway['status'], string> = {
  up: 'ok',
  down: 'danger',
  unknown: 'neutral',
  live: 'ok',
  dropped: 'danger',
};

/** "Up since 10:42" (configured) or "Live, renewed 5 seconds ago" (registered). */
export function GatewayStatus(props: { readonly gateway: Gateway }) {
  const g = props.gateway;
  const since = g.source === 'configured' ? g.statusSince : null;
  return (
    <>
      <span class={`badge ${CLASS[g.status]}`}>{LABEL[g.status]}</span>
      {since && (
        <span class="muted">
          {' '}
          since <When iso={since} />
        </span>
      )}
      {g.source === 'registered' && (
        <span class="muted">
          {' '}
          renewed <When iso={g.lastRenewalAt} />
        </span>
      )}
    </>
  );
}

function Configured(props: { readonly list: readonly ConfiguredGateway[] }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">Gateways of the site configuration</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Address</th>
            <th scope="col">Public address</th>
            <th scope="col">Ports</th>
            <th scope="col">Reports</th>
            <th scope="col">State</th>
            <th scope="col">Last checked</th>
            <th scope="col">Forwards open</th>
            <th scope="col">Clusters</th>
          </tr>
        </thead>
        <tbody>
          {props.list.map((g) => {
            const ports = g.reported?.portRange;
            const differs = ports && (ports[0] !== g.portRange[0] || ports[1] !== g.portRange[1]);
            return (
              <tr key={g.name}>
                <th scope="row">{g.name}</th>
                <td>{g.address}</td>
                <td>{g.publicAddress}</td>
                <td>
                  {g.portRange[0]}–{g.portRange[1]}
                </td>
                <td>
                  {g.reported?.version ? `version ${g.reported.version} ` : ''}
                  {differs && (
                    <span class="badge warn">
                      forwards on {ports[0]}–{ports[1]}
                    </span>
                  )}
                  {!g.reported && <span class="muted">—</span>}
                </td>
                <td>
                  <GatewayStatus gateway={g} />
                </td>
                <td>
                  <When iso={g.checkedAt} />
                </td>
                <td>{g.forwardsOpen}</td>
                <td>{g.clusters.join(', ') || <span class="muted">none</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Registered(props: { readonly list: readonly RegisteredGateway[] }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">Gateways that registered themselves</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Address</th>
            <th scope="col">Public address</th>
            <th scope="col">Ports</th>
            <th scope="col">Version</th>
            <th scope="col">State</th>
            <th scope="col">Registered</th>
            <th scope="col">Forwards open</th>
            <th scope="col">Connections</th>
            <th scope="col">Tags and clusters</th>
          </tr>
        </thead>
        <tbody>
          {props.list.map((g) => (
            <tr key={g.name}>
              <th scope="row">{g.name}</th>
              <td>{g.address}</td>
              <td>{g.publicAddress}</td>
              <td>
                {g.portRange[0]}–{g.portRange[1]}
              </td>
              <td>{g.version}</td>
              <td>
                <GatewayStatus gateway={g} />
              </td>
              <td>
                <When iso={g.registeredAt} />
              </td>
              <td>
                {g.forwardsOpen}
                <span class="muted"> of {g.capacity.forwards}</span>
              </td>
              <td>{g.stats.connections}</td>
              <td>
                {g.tags.join(', ') || <span class="muted">no tags</span>}
                {g.clusters.length > 0 && <span class="muted"> · {g.clusters.join(', ')}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function GatewaysView(props: { readonly params: URLSearchParams }) {
  const cursor = props.params.get('cursor') ?? undefined;
  const gateways = useData(`gateways:${cursor}`, () => adminApi.gateways({ cursor }));
  const all = gateways.data?.gateways ?? [];
  const configured = all.filter((g): g is ConfiguredGateway => g.source === 'configured');
  const registered = all.filter((g): g is RegisteredGateway => g.source === 'registered');
  return (
    <>
      <ViewHeader title="Gateways" data={gateways} />
      <DataState data={gateways} what="gateways" />
      {gateways.data && !gateways.data.checked && configured.length > 0 && (
        <p class="banner info">
          The broker has no gateway secret (GATEWAY_SECRET), so it cannot check its gateways: their
          state stays as last recorded.
        </p>
      )}
      {gateways.data && all.length === 0 && (
        <p class="muted">
          This site has no gateways: desktops are reached directly. Add them under{' '}
          <code>gateways</code> in the configuration, or start gateways with the broker's URL and
          secret and they register themselves.
        </p>
      )}
      {configured.length > 0 && (
        <section aria-labelledby="configured-gateways">
          <h2 id="configured-gateways">In the configuration</h2>
          <Configured list={configured} />
        </section>
      )}
      <Pager
        view="gateways"
        params={props.params}
        next={gateways.data?.nextCursor}
        label="gateways"
      />
      {registered.length > 0 && (
        <section aria-labelledby="registered-gateways">
          <h2 id="registered-gateways">Registered</h2>
          <p class="muted">
            Gateways that registered themselves; one that misses three renewals is dropped and stays
            listed for an hour.
          </p>
          <Registered list={registered} />
        </section>
      )}
    </>
  );
}
