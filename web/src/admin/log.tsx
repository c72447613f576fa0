/**
 * The log: what happened, newest first, filtered by user, event and time, paged; Export
 * downloads every matching row (oldest first) as CSV or JSON lines.
 */
import { useState } from 'preact/hooks';
import { adminApi } from '../shared/admin-api.ts';
import { problem } from '../shared/messages.ts';
import { DataState, FilterField, Filters, Pager, ViewHeader, When } from './components.tsx';
import { useConsole } from './context.ts';
import { useData } from './use-data.ts';

const EVENTS = [
  'login',
  'login_failed',
  'logout',
  'connect',
  'release',
  'session_ended',
  'agent_login',
  'agent_logout',
  'agent_disconnect',
  'agent_reconnect',
];

/** An ISO time as a datetime-local field shows it (local time, minutes). */
function toLocalField(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const toIso = (local: string | undefined) =>
  local && !Number.isNaN(new Date(local).getTime()) ? new Date(local).toISOString() : undefined;

function ExportButtons(props: { readonly query: Record<string, string | undefined> }) {
  const shell = useConsole();
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const download = async (format: 'csv' | 'jsonl') => {
    setBusy(format);
    setError(undefined);
    try {
      const { cursor: _cursor, ...filters } = props.query;
      const blob = await adminApi.logDownload({ ...filters, format });
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `deskbroker-log-${new Date().toISOString().slice(0, 10)}.${format}`;
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30_000);
      shell.announce('The log export has downloaded.');
    } catch (e: unknown) {
      setError(problem(e));
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <>
      <button
        type="button"
        class="button secondary"
        disabled={busy !== undefined}
        onClick={() => download('csv')}
      >
        {busy === 'csv' ? 'Exporting…' : 'Export CSV'}
      </button>
      <button
        type="button"
        class="button secondary"
        disabled={busy !== undefined}
        onClick={() => download('jsonl')}
      >
        {busy === 'jsonl' ? 'Exporting…' : 'Export JSON lines'}
      </button>
      {error && (
        <span class="inline-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

export function LogView(props: { readonly params: URLSearchParams }) {
  const p = props.params;
  const query = {
    user: p.get('user') ?? undefined,
    event: p.get('event') ?? undefined,
    from: p.get('from') ?? undefined,
    to: p.get('to') ?? undefined,
    cursor: p.get('cursor') ?? undefined,
  };
  const key = JSON.stringify(query);
  const log = useData(key, () => adminApi.log(query));
  const rows = log.data?.log ?? [];

  return (
    <>
      <ViewHeader title="Log" data={log}>
        <ExportButtons query={query} />
      </ViewHeader>
      <Filters
        key={key}
        view="log"
        label="Filter the log"
        transform={(f) => ({ ...f, from: toIso(f.from), to: toIso(f.to) })}
      >
        <FilterField id="l-user" name="user" label="User" value={query.user} kind="user" />
        <FilterField id="l-event" name="event" label="Event" value={query.event} list="l-events">
          <datalist id="l-events">
            {EVENTS.map((e) => (
              <option key={e} value={e} />
            ))}
          </datalist>
        </FilterField>
        <FilterField
          id="l-from"
          name="from"
          label="From"
          value={toLocalField(query.from)}
          kind="time"
        />
        <FilterField id="l-to" name="to" label="Until" value={toLocalField(query.to)} kind="time" />
      </Filters>
      <DataState data={log} what="log entries" />
      {log.data && rows.length === 0 && <p class="muted">No log entry matches.</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Log entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">User</th>
                <th scope="col">Desktop</th>
                <th scope="col">Client address</th>
                <th scope="col">Broker</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td>
                    <When iso={r.at} exact />
                  </td>
                  <th scope="row">{r.event}</th>
                  <td>{r.user ?? <span class="muted">—</span>}</td>
                  <td>
                    {r.desktop ?? (r.desktopId ? `#${r.desktopId}` : <span class="muted">—</span>)}
                  </td>
                  <td>{r.clientIp ?? <span class="muted">—</span>}</td>
                  <td>{r.siteId ?? <span class="muted">—</span>}</td>
                  <td class="wrap">{r.detail ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager view="log" params={p} next={log.data?.nextCursor} label="log entries" />
    </>
  );
}
