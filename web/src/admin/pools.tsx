/** Pool usage: each pool's desktops by state, and the policies that offer from it. */
import { adminApi, type Pool } from '../shared/admin-api.ts';
import { DataState, Pager, ViewHeader } from './components.tsx';
import { href } from './router.ts';
import { useData } from './use-data.ts';

const STATES = [
  ['available', 'Available', 'available'],
  ['assigned', 'Assigned', 'assigned'],
  ['inUse', 'In use', 'in use'],
  ['unreachable', 'Unreachable', 'unreachable'],
  ['agentSilent', 'Agent silent', 'agent silent'],
] as const;

/** A table of pools: the counts (each a link to those desktops) and a usage meter. */
export function PoolUsageTable(props: { readonly pools: readonly Pool[] }) {
  if (props.pools.length === 0) return <p class="muted">This site has no pools.</p>;
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">Desktops of each pool by state</caption>
        <thead>
          <tr>
            <th scope="col">Pool</th>
            <th scope="col">Total</th>
            {STATES.map(([k, label]) => (
              <th scope="col" key={k}>
                {label}
              </th>
            ))}
            <th scope="col">Used</th>
            <th scope="col">Policies</th>
          </tr>
        </thead>
        <tbody>
          {props.pools.map((p) => {
            const used = p.inUse + p.assigned + p.agentSilent;
            return (
              <tr key={p.name}>
                <th scope="row">
                  <a href={href('desktops', { pool: p.name })}>{p.name}</a>
                </th>
                <td>{p.total}</td>
                {STATES.map(([k, label, status]) => (
                  <td key={k}>
                    {p[k] > 0 ? (
                      <a
                        href={href('desktops', { pool: p.name, status })}
                        aria-label={`${p[k]} ${label.toLowerCase()} in ${p.name}`}
                      >
                        {p[k]}
                      </a>
                    ) : (
                      0
                    )}
                  </td>
                ))}
                <td>
                  <meter
                    min={0}
                    max={Math.max(1, p.total)}
                    value={used}
                    aria-label={`${p.name}: ${used} of ${p.total} desktops used`}
                  />{' '}
                  {p.total > 0 ? `${Math.round((used / p.total) * 100)} %` : '—'}
                </td>
                <td>
                  {p.policies.length === 0 ? (
                    <span class="muted">none</span>
                  ) : (
                    p.policies
                      .map((u) => `${u.name}${u.as === 'backup' ? ' (backup)' : ''}`)
                      .join(', ')
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function PoolsView(props: { readonly params: URLSearchParams }) {
  const cursor = props.params.get('cursor') ?? undefined;
  const pools = useData(`pools:${cursor}`, () => adminApi.pools({ cursor }));
  return (
    <>
      <ViewHeader title="Pools" data={pools} />
      <DataState data={pools} what="pools" />
      {pools.data && <PoolUsageTable pools={pools.data.pools} />}
      <Pager view="pools" params={props.params} next={pools.data?.nextCursor} label="pools" />
    </>
  );
}
