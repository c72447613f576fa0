/** Gateways: up or down (check_gateway) and since when, forwards open, clusters. */
import { adminApi, type Gateway } from '../shared/admin-api.ts';
import { DataState, Pager, ViewHeader, When } from './components.tsx';
import { useData } from './use-data.ts';

const LABEL: Record<Gateway['status'], string> = {
  up: 'Up',
  down: 'Down',
  unknown: 'Not checked yet',
};
const CLASS: Record<Gateway['status'], string> = { up: 'ok', down: 'danger', unknown: 'neutral' };

/** "Up since 10:42" as a badge and a time. */
export function GatewayStatus(props: { readonly gateway: Gateway }) {
  const g = props.gateway;
  return (
    <>
      <span class={`badge ${CLASS[g.status]}`}>{LABEL[g.status]}</span>
      {g.statusSince && (
        <span class="muted">
          {' '}
          since <When iso={g.statusSince} />
        </span>
      )}
    </>
  );
}

export function GatewaysView(props: { readonly params: URLSearchParams }) {
  const cursor = props.params.get('cursor') ?? undefined;
  const gateways = useData(`gateways:${cursor}`, () => adminApi.gateways({ cursor }));
  const list = gateways.data?.gateways ?? [];
  return (
    <>
      <ViewHeader title="Gateways" data={gateways} />
      <DataState data={gateways} what="gateways" />
      {gateways.data && !gateways.data.checked && list.length > 0 && (
        <p class="banner info">
          The broker has no gateway secret (GATEWAY_SECRET), so it cannot check its gateways: their
          state stays as last recorded.
        </p>
      )}
      {gateways.data && list.length === 0 && (
        <p class="muted">
          This site has no gateways: desktops are reached directly. Add them under{' '}
          <code>gateways</code> in the configuration.
        </p>
      )}
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Gateways</caption>
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
              {list.map((g) => (
                <tr key={g.name}>
                  <th scope="row">{g.name}</th>
                  <td>{g.address}</td>
                  <td>{g.publicAddress}</td>
                  <td>
                    {g.portRange[0]}–{g.portRange[1]}
                  </td>
                  <td>
                    {g.reported ? (
                      <>
                        {g.reported.version ? `version ${g.reported.version}` : ''}
                        {g.reported.portRange &&
                          (g.reported.portRange[0] !== g.portRange[0] ||
                            g.reported.portRange[1] !== g.portRange[1]) && (
                            <span class="badge warn">
                              forwards on {g.reported.portRange[0]}–{g.reported.portRange[1]}
                            </span>
                          )}
                      </>
                    ) : (
                      <span class="muted">—</span>
                    )}
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
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager
        view="gateways"
        params={props.params}
        next={gateways.data?.nextCursor}
        label="gateways"
      />
    </>
  );
}
