/**
 * A small RFB (VNC, RFC 6143) client over the gateway's WebSocket bridge, for tests that talk
 * to a real desktop without a browser: handshake with security type None, raw 32-bit pixels,
 * key and pointer events, clipboard text both ways. Opening a bridge either succeeds (the
 * desktop's greeting arrives) or ends in the gateway's close code.
 */
import { WebSocket } from 'ws';
import { BRIDGE_PROTOCOL, ticketProtocol } from '../../functions/core/gateways/html5-ticket.ts';

export type BridgeOutcome =
  | { readonly opened: true; readonly rfb: RfbClient }
  | { readonly opened: false; readonly code: number; readonly reason: string };

/** Opens the bridge with a ticket (from `from`, a loopback source address) and shakes hands. */
export async function openRfb(
  url: string,
  ticket: string | undefined,
  options: { from?: string; protocols?: string[] } = {},
): Promise<BridgeOutcome> {
  const protocols =
    options.protocols ?? (ticket ? [BRIDGE_PROTOCOL, ticketProtocol(ticket)] : [BRIDGE_PROTOCOL]);
  const ws = new WebSocket(url, protocols, { localAddress: options.from });
  const rfb = new RfbClient(ws);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on('error', () => {});
  const greeting = rfb.read(12).then(
    (b) => b.toString('latin1'),
    () => undefined,
  );
  const first = await Promise.race([greeting, closed]);
  if (typeof first !== 'string') return { opened: false, ...(await closed) };
  await rfb.handshake(first);
  return { opened: true, rfb };
}

export class RfbClient {
  readonly ws: WebSocket;
  width = 0;
  height = 0;
  /** Texts the desktop put on its clipboard, in order. */
  readonly cutTexts: string[] = [];
  /** How the WebSocket closed, once it has. */
  closed?: { code: number; reason: string };
  #buffer = Buffer.alloc(0);
  #wanted?: { size: number; resolve: (b: Buffer) => void; reject: (e: Error) => void };
  #updates: ((pixels: Map<string, Buffer>) => void)[] = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, data]);
      this.#feed();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wanted?.reject(new Error(`the bridge closed (${code} ${reason.toString()})`));
      this.#wanted = undefined;
    });
  }

  #feed(): void {
    const w = this.#wanted;
    if (w && this.#buffer.length >= w.size) {
      const chunk = this.#buffer.subarray(0, w.size);
      this.#buffer = this.#buffer.subarray(w.size);
      this.#wanted = undefined;
      w.resolve(Buffer.from(chunk));
    }
  }

  /** The next `size` bytes from the desktop. */
  read(size: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error(`the bridge closed (${this.closed.code})`));
      this.#wanted = { size, resolve, reject };
      this.#feed();
    });
  }

  send(bytes: Buffer): void {
    this.ws.send(bytes);
  }

  async handshake(version: string): Promise<void> {
    if (!version.startsWith('RFB 003.')) throw new Error(`not an RFB server: ${version}`);
    this.send(Buffer.from('RFB 003.008\n', 'latin1'));
    const count = (await this.read(1))[0]!;
    const types = [...(await this.read(count))];
    if (!types.includes(1)) throw new Error(`the desktop wants security types ${types}`);
    this.send(Buffer.from([1]));
    if ((await this.read(4)).readUInt32BE(0) !== 0) throw new Error('security handshake failed');
    this.send(Buffer.from([1])); // ClientInit: shared
    const init = await this.read(24);
    this.width = init.readUInt16BE(0);
    this.height = init.readUInt16BE(2);
    await this.read(init.readUInt32BE(20)); // desktop name
    // SetPixelFormat: 32 bpp, depth 24, little endian, true colour, R<<16 G<<8 B.
    const format = Buffer.alloc(20);
    format.set([0, 0, 0, 0, 32, 24, 0, 1], 0);
    format.writeUInt16BE(255, 8);
    format.writeUInt16BE(255, 10);
    format.writeUInt16BE(255, 12);
    format.set([16, 8, 0], 14);
    this.send(format);
    // SetEncodings: raw only.
    this.send(Buffer.from([2, 0, 0, 1, 0, 0, 0, 0]));
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const type = (await this.read(1))[0]!;
        if (type === 0) {
          const count = (await this.read(3)).readUInt16BE(1);
          const pixels = new Map<string, Buffer>();
          for (let i = 0; i < count; i++) {
            const head = await this.read(12);
            const [x, y, w, h] = [0, 2, 4, 6].map((o) => head.readUInt16BE(o)) as [
              number,
              number,
              number,
              number,
            ];
            const data = await this.read(w * h * 4);
            for (let row = 0; row < h; row++) {
              for (let col = 0; col < w; col++) {
                const at = (row * w + col) * 4;
                pixels.set(`${x + col},${y + row}`, data.subarray(at, at + 4));
              }
            }
          }
          this.#updates.shift()?.(pixels);
        } else if (type === 2) {
          // Bell: nothing follows.
        } else if (type === 3) {
          const length = (await this.read(7)).readUInt32BE(3);
          this.cutTexts.push((await this.read(length)).toString('latin1'));
        } else {
          throw new Error(`unexpected RFB message ${type}`);
        }
      }
    } catch {
      // The bridge closed.
    }
  }

  /** The colour of one pixel, `#rrggbb`, from a fresh (non-incremental) update. */
  async pixel(x: number, y: number): Promise<string> {
    const update = new Promise<Map<string, Buffer>>((resolve) => this.#updates.push(resolve));
    const request = Buffer.alloc(10);
    request.writeUInt8(3, 0);
    request.writeUInt8(0, 1);
    request.writeUInt16BE(x, 2);
    request.writeUInt16BE(y, 4);
    request.writeUInt16BE(1, 6);
    request.writeUInt16BE(1, 8);
    this.send(request);
    const px = (await update).get(`${x},${y}`);
    if (!px) throw new Error(`no pixel ${x},${y} in the update`);
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    return `#${hex(px[2]!)}${hex(px[1]!)}${hex(px[0]!)}`;
  }

  pointer(x: number, y: number, buttons = 0): void {
    const event = Buffer.alloc(6);
    event.writeUInt8(5, 0);
    event.writeUInt8(buttons, 1);
    event.writeUInt16BE(x, 2);
    event.writeUInt16BE(y, 4);
    this.send(event);
  }

  /** Presses and releases one X keysym. */
  key(keysym: number): void {
    for (const down of [1, 0]) {
      const event = Buffer.alloc(8);
      event.writeUInt8(4, 0);
      event.writeUInt8(down, 1);
      event.writeUInt32BE(keysym, 4);
      this.send(event);
    }
  }

  /** Types Latin-1 text (keysyms equal the code points) and Return. */
  type(text: string): void {
    for (const ch of text) this.key(ch.codePointAt(0)!);
    this.key(0xff0d);
  }

  /** Puts text on the desktop's clipboard (ClientCutText). */
  sendClipboard(text: string): void {
    const body = Buffer.from(text, 'latin1');
    const head = Buffer.alloc(8);
    head.writeUInt8(6, 0);
    head.writeUInt32BE(body.length, 4);
    this.send(Buffer.concat([head, body]));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
