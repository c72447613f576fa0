/**
 * What a connect answered: the launch file (downloaded at once, and again on request), the
 * client URI, and the host, port and gateway for people who type them into a client.
 */
import { downloadFile } from '../shared/download.ts';
import type { Connection } from '../shared/portal-api.ts';
import { protocolLabel } from './labels.ts';

export function ConnectionDetails(props: { readonly connection: Connection }) {
  const c = props.connection;
  const file = c.launchFile;
  return (
    <section class="connection" aria-label={`How to connect to ${c.name}`}>
      {file ? (
        <p>
          <strong>{file.name}</strong> was downloaded. Open it to start your{' '}
          {protocolLabel(c.protocol)} session.
        </p>
      ) : c.uri ? (
        <p>
          <a class="button" href={c.uri}>
            Open in your {protocolLabel(c.protocol)} client
          </a>
        </p>
      ) : null}
      <dl class="details">
        <dt>Protocol</dt>
        <dd>{protocolLabel(c.protocol)}</dd>
        <dt>Host</dt>
        <dd>{c.host}</dd>
        <dt>Port</dt>
        <dd>{c.port}</dd>
        {c.gateway && (
          <>
            <dt>Gateway</dt>
            <dd>{c.gateway}</dd>
          </>
        )}
      </dl>
      {file && (
        <button type="button" class="button quiet" onClick={() => downloadFile(file)}>
          Download again<span class="sr-only"> ({file.name})</span>
        </button>
      )}
    </section>
  );
}
