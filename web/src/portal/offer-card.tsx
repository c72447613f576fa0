/** One offered desktop: its name, pool and status, Connect per protocol, and Release. */
import { useState } from 'preact/hooks';
import { downloadFile } from '../shared/download.ts';
import { problem, sessionEnded } from '../shared/messages.ts';
import { type Connection, type Offer, portalApi } from '../shared/portal-api.ts';
import { ConnectionDetails } from './connection-details.tsx';
import { protocolLabel, STATUS_LABEL } from './labels.ts';
import { OpenInBrowser } from './open-in-browser.tsx';

export function OfferCard(props: {
  readonly offer: Offer;
  /** Something happened that the list should show (a connect, a release). */
  readonly onChanged: (announcement: string) => void;
  readonly onSessionEnded: () => void;
}) {
  const { offer } = props;
  const [busy, setBusy] = useState<string | undefined>();
  const [connection, setConnection] = useState<Connection | undefined>();
  const [error, setError] = useState<string | undefined>();
  const headingId = `desktop-${offer.desktopId}`;

  const run = async (what: string, action: () => Promise<void>) => {
    setBusy(what);
    setError(undefined);
    try {
      await action();
    } catch (e: unknown) {
      if (sessionEnded(e)) props.onSessionEnded();
      else setError(problem(e));
    } finally {
      setBusy(undefined);
    }
  };

  const connect = (protocol: string) =>
    run(`connect-${protocol}`, async () => {
      const answer = await portalApi.connect(offer.desktopId, { protocol });
      setConnection(answer);
      if (answer.launchFile) downloadFile(answer.launchFile);
      props.onChanged(
        answer.launchFile
          ? `${answer.name} is ready: ${answer.launchFile.name} is downloading.`
          : `${answer.name} is ready: ${answer.host} port ${answer.port}.`,
      );
    });

  const release = () =>
    run('release', async () => {
      await portalApi.release(offer.desktopId);
      setConnection(undefined);
      props.onChanged(`${offer.name} was released.`);
    });

  return (
    <li class="card offer" aria-labelledby={headingId} aria-busy={busy ? 'true' : undefined}>
      <div class="offer-head">
        <h2 id={headingId}>{offer.name}</h2>
        <span class={`badge ${offer.status === 'available' ? 'ok' : 'accent'}`}>
          {STATUS_LABEL[offer.status]}
        </span>
      </div>
      <p class="muted">
        Pool <strong>{offer.pool}</strong>
        {offer.protocols.length > 0 &&
          ` · ${offer.protocols.map((p) => `${protocolLabel(p.protocol)}${p.via === 'gateway' ? ' via gateway' : ''}`).join(', ')}`}
      </p>
      {error && (
        <div class="banner error" role="alert">
          {error}
        </div>
      )}
      <div class="actions">
        {offer.protocols.map((p) => (
          <button
            key={p.protocol}
            type="button"
            class="button"
            disabled={busy !== undefined}
            onClick={() => connect(p.protocol)}
            aria-describedby={headingId}
          >
            {busy === `connect-${p.protocol}`
              ? 'Connecting…'
              : `Connect with ${protocolLabel(p.protocol)}`}
          </button>
        ))}
        <OpenInBrowser offer={offer} busy={busy !== undefined} />
        {offer.status === 'held' && (
          <button
            type="button"
            class="button secondary"
            disabled={busy !== undefined}
            onClick={release}
            aria-describedby={headingId}
          >
            {busy === 'release' ? 'Releasing…' : 'Release'}
          </button>
        )}
      </div>
      {connection && <ConnectionDetails connection={connection} />}
    </li>
  );
}
