/**
 * A VNC desktop with noVNC, loaded only by this page (a separate chunk: the portal never loads
 * it). The page opens the WebSocket itself, offering the ticket as a subprotocol, and hands it
 * to noVNC, so it can read the gateway's close code and say why the session ended.
 */
import { BRIDGE_PROTOCOL, ticketProtocol } from '../../../functions/core/gateways/html5-wire.ts';
import type { BrowserConnection } from '../shared/portal-api.ts';
import type { DesktopSession, SessionEvents } from './session.ts';

export async function openVnc(
  screen: HTMLElement,
  connection: BrowserConnection,
  events: SessionEvents,
): Promise<DesktopSession> {
  const { default: RFB } = await import('@novnc/novnc');
  const ws = new WebSocket(connection.webSocket.url, [
    BRIDGE_PROTOCOL,
    ticketProtocol(connection.webSocket.ticket),
  ]);
  let closed: CloseEvent | undefined;
  ws.addEventListener('close', (e) => {
    closed = e;
  });
  let byUser = false;
  let wasConnected = false;
  const rfb = new RFB(screen, ws, { shared: true });
  rfb.scaleViewport = true;
  rfb.focusOnClick = true;
  rfb.background = 'transparent';
  rfb.addEventListener('connect', () => {
    wasConnected = true;
    rfb.focus();
    events.onConnected();
  });
  rfb.addEventListener('clipboard', (e) => {
    events.onClipboard((e as CustomEvent<{ text: string }>).detail.text);
  });
  rfb.addEventListener('credentialsrequired', () => {
    events.onPasswordRequired?.((password) => rfb.sendCredentials({ password }));
  });
  rfb.addEventListener('disconnect', () => {
    events.onEnded({
      code: closed?.code ?? 1006,
      reason: closed?.reason ?? '',
      byUser,
      wasConnected,
    });
  });
  return {
    disconnect() {
      byUser = true;
      rfb.disconnect();
    },
    sendCtrlAltDel: () => rfb.sendCtrlAltDel(),
    sendClipboard: (text) => rfb.clipboardPasteFrom(text),
    setScaled(scaled) {
      rfb.scaleViewport = scaled;
      rfb.clipViewport = !scaled;
    },
    focus: () => rfb.focus(),
  };
}
