/** Clients: the devices users signed in from (the guide's Resources > Clients). */
import { adminApi } from '../shared/admin-api.ts';
import { DataState, FilterField, Filters, Pager, ViewHeader, When } from './components.tsx';
import { useData } from './use-data.ts';

export function ClientsView(props: { readonly params: URLSearchParams }) {
  const p = props.params;
  const query = { user: p.get('user') ?? undefined, cursor: p.get('cursor') ?? undefined };
  const key = JSON.stringify(query);
  const clients = useData(key, () => adminApi.clients(query));
  const list = clients.data?.clients ?? [];
  return (
    <>
      <ViewHeader title="Clients" data={clients} />
      <Filters key={key} view="clients" label="Filter the clients">
        <FilterField id="c-user" name="user" label="Last user" value={query.user} kind="user" />
      </Filters>
      <DataState data={clients} what="clients" />
      {clients.data && list.length === 0 && <p class="muted">No client has signed in yet.</p>}
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Registered clients, most recently seen first</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Address</th>
                <th scope="col">Locations</th>
                <th scope="col">Login gateway</th>
                <th scope="col">Last user</th>
                <th scope="col">Last login</th>
                <th scope="col">First seen</th>
                <th scope="col">Attributes</th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.id}>
                  <th scope="row">{c.name}</th>
                  <td>{c.address}</td>
                  <td>{c.locations.join(', ') || <span class="muted">none</span>}</td>
                  <td>{c.loginGateway ?? <span class="muted">direct</span>}</td>
                  <td>{c.lastUser ?? <span class="muted">—</span>}</td>
                  <td>
                    <When iso={c.lastLoginAt} />
                  </td>
                  <td>
                    <When iso={c.firstSeenAt} />
                  </td>
                  <td class="wrap small">
                    {Object.entries(c.attributes)
                      .map(([k, v]) => `${k}: ${v}`)
                      .join('; ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager view="clients" params={p} next={clients.data?.nextCursor} label="clients" />
    </>
  );
}
