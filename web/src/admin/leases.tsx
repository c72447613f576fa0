/**
 * Connection leases (Citrix's leasing): the list, searched by user, desktop and state, paged;
 * remove one, or all those of the user or desktop searched for; revoke all of a user's
 * leases (and keep the user out of leased mode) or lift that; rebuild the leases from the
 * hard assignments. The leases live in the state table, so the list answers in leased mode
 * too.
 */
import { useState } from 'preact/hooks';
import { adminApi } from '../shared/admin-api.ts';
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
import { useData } from './use-data.ts';

function RevokeForm(props: { readonly onDone: () => void }) {
  const [user, setUser] = useState('');
  const name = user.trim();
  return (
    <section class="card" aria-labelledby="revoke">
      <h2 id="revoke">Revoke a user’s leases</h2>
      <p class="muted">
        Revoking removes every lease of the user and keeps them out of leased mode until the
        revocation is lifted; it does not end their current sessions.
      </p>
      <div class="inline-form">
        <div class="field">
          <label for="revoke-user">User name</label>
          <input
            id="revoke-user"
            autocapitalize="none"
            spellcheck={false}
            value={user}
            onInput={(e) => setUser(e.currentTarget.value)}
          />
        </div>
        {name && (
          <>
            <ActionButton
              label="Revoke"
              busyLabel="Revoking…"
              tone="danger"
              confirm={`Revoke every lease of ${name}?`}
              run={async () => {
                const r = await adminApi.revoke(name);
                return `${r.removed} lease${r.removed === 1 ? '' : 's'} of ${r.user} revoked; ${r.user} stays out of leased mode.`;
              }}
              onDone={props.onDone}
            />
            <ActionButton
              label="Lift revocation"
              busyLabel="Lifting…"
              run={async () => {
                const r = await adminApi.unrevoke(name);
                return `${r.user} can use leases again.`;
              }}
              onDone={props.onDone}
            />
          </>
        )}
      </div>
    </section>
  );
}

export function LeasesView(props: { readonly params: URLSearchParams }) {
  const p = props.params;
  const query = {
    user: p.get('user') ?? undefined,
    desktopId: p.get('desktopId') ?? undefined,
    state: p.get('state') ?? undefined,
    cursor: p.get('cursor') ?? undefined,
    limit: '50',
  };
  const key = JSON.stringify(query);
  const leases = useData(key, () => adminApi.leases(query), { needsDatabase: false });
  const list = leases.data?.leases ?? [];
  const filtered = Boolean(query.user || query.desktopId);

  return (
    <>
      <ViewHeader title="Leases" data={leases}>
        <ActionButton
          label="Rebuild leases"
          busyLabel="Rebuilding…"
          confirm="Re-create the leases of the hard-assigned desktops and the leased-mode copy of the site?"
          run={async () => {
            const r = await adminApi.rebuildLeases();
            return `Rebuilt ${r.leases} leases, ${r.accounts} accounts and ${r.agentKeys} agent keys.`;
          }}
          onDone={leases.reload}
        />
      </ViewHeader>
      <Filters key={key} view="leases" label="Search the leases">
        <FilterField id="lease-user" name="user" label="User" value={query.user} kind="user" />
        <FilterField
          id="lease-desktop"
          name="desktopId"
          label="Desktop ID"
          value={query.desktopId}
          kind="number"
        />
        <FilterChoice
          id="lease-state"
          name="state"
          label="State"
          value={query.state ?? 'live'}
          values={['live', 'expired', 'all']}
          any={false}
        />
      </Filters>
      {filtered && list.length > 0 && (
        <p>
          <ActionButton
            label="Remove these leases"
            busyLabel="Removing…"
            tone="danger"
            confirm={`Remove every lease${query.user ? ` of ${query.user}` : ''}${query.desktopId ? ` on desktop ${query.desktopId}` : ''}?`}
            run={async () => {
              const r = await adminApi.removeLeases({
                user: query.user,
                desktopId: query.desktopId,
              });
              return `${r.removed} lease${r.removed === 1 ? '' : 's'} removed.`;
            }}
            onDone={leases.reload}
          />
        </p>
      )}
      <DataState data={leases} what="leases" />
      {leases.data && list.length === 0 && (
        <p class="muted">
          {query.user && !query.desktopId ? `${query.user} has no lease.` : 'No lease matches.'}
        </p>
      )}
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Connection leases</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Desktop</th>
                <th scope="col">Pool</th>
                <th scope="col">Protocol</th>
                <th scope="col">Last launch</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((l) => (
                <tr key={`${l.user}/${l.desktopId}`}>
                  <th scope="row">{l.user}</th>
                  <td>
                    {l.desktopName} <span class="muted">{l.address}</span>
                  </td>
                  <td>{l.pool}</td>
                  <td>{l.launch.protocol}</td>
                  <td>
                    <When iso={l.lastLaunchAt} />
                  </td>
                  <td>
                    <When iso={l.expiresAt} />
                  </td>
                  <td>
                    <span class={`badge ${l.state === 'live' ? 'ok' : 'neutral'}`}>{l.state}</span>
                  </td>
                  <td>
                    <ActionButton
                      label="Remove"
                      busyLabel="Removing…"
                      tone="quiet"
                      confirm={`Remove ${l.user}’s lease on ${l.desktopName}?`}
                      run={async () => {
                        await adminApi.removeLease(l.user, l.desktopId);
                        return `${l.user}’s lease on ${l.desktopName} was removed.`;
                      }}
                      onDone={leases.reload}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager view="leases" params={p} next={leases.data?.nextCursor} label="leases" />
      <RevokeForm onDone={leases.reload} />
    </>
  );
}
