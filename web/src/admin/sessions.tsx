/**
 * Sessions: who is signed in to the broker, from where, since when; End signs one out at its
 * next call. Read from the state table, so it answers in leased mode too.
 */
import { adminApi } from '../shared/admin-api.ts';
import {
  ActionButton,
  DataState,
  FilterField,
  Filters,
  Pager,
  ViewHeader,
  When,
} from './components.tsx';
import { useData } from './use-data.ts';

export function SessionsView(props: { readonly params: URLSearchParams }) {
  const p = props.params;
  const query = { user: p.get('user') ?? undefined, cursor: p.get('cursor') ?? undefined };
  const key = JSON.stringify(query);
  const sessions = useData(key, () => adminApi.sessions(query), { needsDatabase: false });
  const list = sessions.data?.sessions ?? [];

  return (
    <>
      <ViewHeader title="Sessions" data={sessions} />
      <Filters key={key} view="sessions" label="Filter the sessions">
        <FilterField id="s-user" name="user" label="User" value={query.user} kind="user" />
      </Filters>
      <DataState data={sessions} what="sessions" />
      {sessions.data && list.length === 0 && <p class="muted">No one is signed in.</p>}
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Live broker sessions</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Client address</th>
                <th scope="col">Locations</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last seen</th>
                <th scope="col">Ends</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id}>
                  <th scope="row">
                    {s.user}
                    {s.self && <span class="muted"> (you, here)</span>}
                    {s.mode === 'leased' && <span class="badge warn">leased</span>}
                  </th>
                  <td>
                    {s.role}
                    {s.isAdmin && <span class="muted"> · administrator</span>}
                  </td>
                  <td>
                    {s.clientAddress}
                    {s.loginGateway && <span class="muted"> via {s.loginGateway}</span>}
                  </td>
                  <td>{s.locations.join(', ') || <span class="muted">none</span>}</td>
                  <td>
                    <When iso={s.signedInAt} />
                  </td>
                  <td>
                    <When iso={s.lastSeenAt} />
                  </td>
                  <td>
                    <When iso={s.endsAt} />
                  </td>
                  <td>
                    {!s.self && (
                      <ActionButton
                        label="End session"
                        busyLabel="Ending…"
                        tone="danger"
                        confirm={`Sign ${s.user} out (from ${s.clientAddress})?`}
                        run={async () => {
                          await adminApi.endSession(s.id);
                          return `${s.user} is signed out at their next request.`;
                        }}
                        onDone={sessions.reload}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager view="sessions" params={p} next={sessions.data?.nextCursor} label="sessions" />
    </>
  );
}
