/**
 * An RDP desktop with IronRDP's WebAssembly client (`ironrdp-wasm`, loaded only by this page),
 * through the gateway's RDCleanPath endpoint: the one-time ticket is the proxy authorization.
 * The client leaves keyboard and mouse to the page: they are sent here as scancodes and
 * pointer events, scaled from the canvas's size on screen to the desktop's.
 */
import type { Session } from 'ironrdp-wasm';
import { CLOSE_CODES } from '../../../functions/core/gateways/html5-wire.ts';
import type { BrowserConnection } from '../shared/portal-api.ts';
import type { DesktopSession, SessionEvents } from './session.ts';

/** KeyboardEvent.code → PC/AT scancode set 1 (0xE0xx: extended keys). */
const SCANCODES: Readonly<Record<string, number>> = {
  Escape: 0x01,
  Digit1: 0x02,
  Digit2: 0x03,
  Digit3: 0x04,
  Digit4: 0x05,
  Digit5: 0x06,
  Digit6: 0x07,
  Digit7: 0x08,
  Digit8: 0x09,
  Digit9: 0x0a,
  Digit0: 0x0b,
  Minus: 0x0c,
  Equal: 0x0d,
  Backspace: 0x0e,
  Tab: 0x0f,
  KeyQ: 0x10,
  KeyW: 0x11,
  KeyE: 0x12,
  KeyR: 0x13,
  KeyT: 0x14,
  KeyY: 0x15,
  KeyU: 0x16,
  KeyI: 0x17,
  KeyO: 0x18,
  KeyP: 0x19,
  BracketLeft: 0x1a,
  BracketRight: 0x1b,
  Enter: 0x1c,
  ControlLeft: 0x1d,
  KeyA: 0x1e,
  KeyS: 0x1f,
  KeyD: 0x20,
  KeyF: 0x21,
  KeyG: 0x22,
  KeyH: 0x23,
  KeyJ: 0x24,
  KeyK: 0x25,
  KeyL: 0x26,
  Semicolon: 0x27,
  Quote: 0x28,
  Backquote: 0x29,
  ShiftLeft: 0x2a,
  Backslash: 0x2b,
  KeyZ: 0x2c,
  KeyX: 0x2d,
  KeyC: 0x2e,
  KeyV: 0x2f,
  KeyB: 0x30,
  KeyN: 0x31,
  KeyM: 0x32,
  Comma: 0x33,
  Period: 0x34,
  Slash: 0x35,
  ShiftRight: 0x36,
  NumpadMultiply: 0x37,
  AltLeft: 0x38,
  Space: 0x39,
  CapsLock: 0x3a,
  F1: 0x3b,
  F2: 0x3c,
  F3: 0x3d,
  F4: 0x3e,
  F5: 0x3f,
  F6: 0x40,
  F7: 0x41,
  F8: 0x42,
  F9: 0x43,
  F10: 0x44,
  NumLock: 0x45,
  ScrollLock: 0x46,
  Numpad7: 0x47,
  Numpad8: 0x48,
  Numpad9: 0x49,
  NumpadSubtract: 0x4a,
  Numpad4: 0x4b,
  Numpad5: 0x4c,
  Numpad6: 0x4d,
  NumpadAdd: 0x4e,
  Numpad1: 0x4f,
  Numpad2: 0x50,
  Numpad3: 0x51,
  Numpad0: 0x52,
  NumpadDecimal: 0x53,
  IntlBackslash: 0x56,
  F11: 0x57,
  F12: 0x58,
  NumpadEnter: 0xe01c,
  ControlRight: 0xe01d,
  NumpadDivide: 0xe035,
  AltRight: 0xe038,
  Home: 0xe047,
  ArrowUp: 0xe048,
  PageUp: 0xe049,
  ArrowLeft: 0xe04b,
  ArrowRight: 0xe04d,
  End: 0xe04f,
  ArrowDown: 0xe050,
  PageDown: 0xe051,
  Insert: 0xe052,
  Delete: 0xe053,
  MetaLeft: 0xe05b,
  MetaRight: 0xe05c,
  ContextMenu: 0xe05d,
};

/** The RDCleanPath refusal's HTTP status as the gateway's close code (close-messages.ts). */
const CODE_FOR_STATUS: Readonly<Record<number, number>> = {
  401: CLOSE_CODES.ticketInvalid,
  403: CLOSE_CODES.ticketUsed,
  502: CLOSE_CODES.desktopUnreachable,
};

type IronError = {
  kind(): number;
  backtrace(): string;
  rdcleanpathDetails?(): { readonly httpStatusCode: number | undefined } | undefined;
};
const isIronError = (e: unknown): e is IronError =>
  typeof e === 'object' && e !== null && typeof (e as IronError).kind === 'function';

export async function openRdp(
  canvas: HTMLCanvasElement,
  connection: BrowserConnection,
  credentials: { readonly username: string; readonly password: string },
  events: SessionEvents,
): Promise<DesktopSession> {
  const rdp = await import('ironrdp-wasm');
  await rdp.default();
  const box = canvas.parentElement!.getBoundingClientRect();
  const even = (n: number, min: number) => Math.max(min, Math.floor(n / 2) * 2);
  const builder = new rdp.SessionBuilder()
    .username(credentials.username)
    .password(credentials.password)
    .destination(connection.name)
    .proxyAddress(connection.webSocket.url)
    .authToken(connection.webSocket.ticket)
    .desktopSize(new rdp.DesktopSize(even(box.width, 640), even(box.height, 480)))
    .renderCanvas(canvas)
    .setCursorStyleCallbackContext(canvas)
    .setCursorStyleCallback((style: string) => {
      canvas.style.cursor = style || 'default';
    })
    .remoteClipboardChangedCallback(
      (data: { items(): { mimeType(): string; value(): unknown }[] }) => {
        const text = data.items().find((i) => i.mimeType().startsWith('text/plain'));
        if (text) events.onClipboard(String(text.value()));
      },
    )
    .forceClipboardUpdateCallback(() => {});

  let byUser = false;
  let wasConnected = false;
  const ended = (code: number, reason = '') =>
    events.onEnded({ code, reason, byUser, wasConnected });
  let session: Session;
  try {
    session = await builder.connect();
  } catch (e: unknown) {
    const status = isIronError(e) ? e.rdcleanpathDetails?.()?.httpStatusCode : undefined;
    ended(status ? (CODE_FOR_STATUS[status] ?? 1006) : 1006);
    throw e;
  }
  wasConnected = true;
  const size = session.desktopSize();
  canvas.width = size.width;
  canvas.height = size.height;
  events.onConnected();
  session.run().then(
    () => ended(byUser ? 1000 : CLOSE_CODES.desktopClosed),
    () => ended(byUser ? 1000 : 1006),
  );

  const send = (...deviceEvents: unknown[]) => {
    const tx = new rdp.InputTransaction();
    for (const e of deviceEvents) tx.addEvent(e as never);
    session.applyInputs(tx);
  };
  const key = (down: boolean) => (e: KeyboardEvent) => {
    const code = SCANCODES[e.code];
    if (code === undefined) return;
    e.preventDefault();
    send(down ? rdp.DeviceEvent.keyPressed(code) : rdp.DeviceEvent.keyReleased(code));
  };
  const at = (e: MouseEvent) => {
    const r = canvas.getBoundingClientRect();
    return [
      Math.round(((e.clientX - r.left) * canvas.width) / r.width),
      Math.round(((e.clientY - r.top) * canvas.height) / r.height),
    ] as const;
  };
  canvas.tabIndex = 0;
  canvas.addEventListener('keydown', key(true));
  canvas.addEventListener('keyup', key(false));
  canvas.addEventListener('mousemove', (e) => send(rdp.DeviceEvent.mouseMove(...at(e))));
  canvas.addEventListener('mousedown', (e) => {
    e.preventDefault();
    canvas.focus();
    send(rdp.DeviceEvent.mouseMove(...at(e)), rdp.DeviceEvent.mouseButtonPressed(e.button));
  });
  canvas.addEventListener('mouseup', (e) => send(rdp.DeviceEvent.mouseButtonReleased(e.button)));
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      if (e.deltaY !== 0)
        send(rdp.DeviceEvent.wheelRotations(true, e.deltaY > 0 ? -1 : 1, rdp.RotationUnit.Line));
    },
    { passive: false },
  );
  canvas.addEventListener('blur', () => session.releaseAllInputs());

  return {
    disconnect() {
      byUser = true;
      session.shutdown();
    },
    sendCtrlAltDel() {
      const keys = [0x1d, 0x38, 0xe053];
      send(...keys.map((k) => rdp.DeviceEvent.keyPressed(k)));
      send(...keys.reverse().map((k) => rdp.DeviceEvent.keyReleased(k)));
    },
    sendClipboard(text) {
      const data = new rdp.ClipboardData();
      data.addText('text/plain', text);
      void session.onClipboardPaste(data);
    },
    setScaled(scaled) {
      canvas.classList.toggle('scaled', scaled);
    },
    focus: () => canvas.focus(),
  };
}
