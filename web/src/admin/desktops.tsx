/**
 * Desktops: every desktop with its state, who holds it and since when, where it was launched
 * from, its agent and its leases; filtered by pool, state and user; Release gives one back.
 */
import { adminApi, type Desktop, type DesktopStatus } from '../shared/admin-api.ts';
import {
  ActionButton,
  DataState,
  FilterChoice,
  FilterField,
  Filters,
  Pager,
  ViewHeader,
  When,
} from './components.tsx';
import { href } from './router.ts';
import { useData } from './use-data.ts';

export const DESKTOP_STATUSES: readonly DesktopStatus[] = [
  'available',
  'assigned',
  'in use',
  'unreachable',
  'agent silent',
];

const STATUS_CLASS: Record<DesktopStatus, string> = {
  available: 'ok',
  assigned: 'neutral',
  'in use': 'accent',
  unreachable: 'danger',
  'agent silent': 'warn',
};

function Holder(props: { readonly d: Desktop }) {
  const { d } = props;
  if (!d.heldBy)
    return d.assignedTo ? (
      <span class="muted">assigned to {d.assignedTo}</span>
    ) : (
      <span class="muted">—</span>
    );
  return (
    <>
      <strong>{d.heldBy}</strong>
      {d.heldSince && (
        <span class="muted">
          {' '}
          since <When iso={d.heldSince} />
        </span>
      )}
    </>
  );
}

function Agent(props: { readonly d: Desktop }) {
  const { agent } = props.d;
  if (!agent.managed) return <span class="muted">no agent</span>;
  return (
    <>
      {agent.lastEvent ? (
        <>
          {agent.lastEvent.event} <When iso={agent.lastEvent.at} />
        </>
      ) : (
        <span class="muted">no event yet</span>
      )}
      <br />
      <span class="muted">
        seen <When iso={agent.lastSeenAt} />
      </span>
    </>
  );
}

export function DesktopsView(props: { readonly params: URLSearchParams }) {
  const p = props.params;
  const query = {
    pool: p.get('pool') ?? undefined,
    status: p.get('status') ?? undefined,
    user: p.get('user') ?? undefined,
    cursor: p.get('cursor') ?? undefined,
  };
  const key = JSON.stringify(query);
  const desktops = useData(key, () => adminApi.desktops(query));
  const list = desktops.data?.desktops ?? [];
  const filtered = Boolean(query.pool || query.status || query.user);

  return (
    <>
      <ViewHeader title="Desktops" data={desktops} />
      <Filters key={key} view="desktops" label="Filter the desktops">
        <FilterField id="f-pool" name="pool" label="Pool" value={query.pool} />
        <FilterChoice
          id="f-status"
          name="status"
          label="State"
          value={query.status}
          values={DESKTOP_STATUSES}
        />
        <FilterField id="f-user" name="user" label="User" value={query.user} kind="user" />
      </Filters>
      <DataState data={desktops} what="desktops" />
      {desktops.data && list.length === 0 && (
        <p class="muted">
          {filtered ? 'No desktop matches these filters.' : 'This site has no desktops.'}
        </p>
      )}
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Desktops, by name</caption>
            <thead>
              <tr>
                <th scope="col">Desktop</th>
                <th scope="col">Pool</th>
                <th scope="col">State</th>
                <th scope="col">Held by</th>
                <th scope="col">Launched from</th>
                <th scope="col">Agent</th>
                <th scope="col">Leases</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((d) => (
                <tr key={d.id}>
                  <th scope="row">
                    {d.name}
                    <br />
                    <span class="muted">{d.address}</span>
                  </th>
                  <td>{d.pool}</td>
                  <td>
                    <span class={`badge ${STATUS_CLASS[d.status]}`}>{d.status}</span>
                  </td>
                  <td>
                    <Holder d={d} />
                  </td>
                  <td>
                    {d.launchedFrom ? (
                      <>
                        {d.launchedFrom.client ? `${d.launchedFrom.client}, ` : ''}
                        {d.launchedFrom.address ?? 'unknown address'}
                        <br />
                        <span class="muted">
                          <When iso={d.launchedFrom.at} />
                        </span>
                      </>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                  <td>
                    <Agent d={d} />
                  </td>
                  <td>
                    {d.leases.length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      <a href={href('leases', { desktopId: String(d.id) })}>
                        {d.leases.map((l) => (
                          <span key={l.user} class="nowrap">
                            {l.user}, until <When iso={l.expiresAt} />
                          </span>
                        ))}
                      </a>
                    )}
                  </td>
                  <td>
                    {d.heldBy && (
                      <ActionButton
                        label="Release"
                        busyLabel="Releasing…"
                        confirm={`Take ${d.name} back from ${d.heldBy}?`}
                        run={async () => {
                          const r = await adminApi.release(d.id);
                          return `${r.name} was released from ${r.releasedFrom}.`;
                        }}
                        onDone={desktops.reload}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager view="desktops" params={p} next={desktops.data?.nextCursor} label="desktops" />
    </>
  );
}
