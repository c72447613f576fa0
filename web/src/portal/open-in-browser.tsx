/**
 * "Open in browser": the offer's protocols that the browser can show (the offer says
 * `browser: true`: VNC or RDP through a gateway), each a link to the HTML5 desktop page,
 * `/desktop/<id>?protocol=<p>`, opened in a new tab so the list stays. The page asks the
 * broker for the connection itself; its address is a bookmark. The desktop page's code
 * (noVNC, IronRDP) never loads here.
 */
import type { Offer } from '../shared/portal-api.ts';
import { protocolLabel } from './labels.ts';

export function OpenInBrowser(props: { readonly offer: Offer; readonly busy: boolean }) {
  const { offer } = props;
  const shown = offer.protocols.filter((p) => p.browser);
  return (
    <>
      {shown.map((p) => (
        <a
          key={`browser-${p.protocol}`}
          class="button secondary"
          href={`/desktop/${offer.desktopId}?protocol=${encodeURIComponent(p.protocol)}`}
          target="_blank"
          rel="noopener"
          aria-disabled={props.busy ? 'true' : undefined}
          aria-describedby={`desktop-${offer.desktopId}`}
        >
          Open in browser{shown.length > 1 ? ` (${protocolLabel(p.protocol)})` : ''}
          <span class="sr-only"> (opens in a new tab)</span>
        </a>
      ))}
    </>
  );
}
