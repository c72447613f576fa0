/**
 * Relays one browser WebSocket and one desktop socket (TCP, or TLS for RDP) both ways, with
 * back-pressure and a cap: desktop → browser, the desktop is paused while more than
 * `bufferBytes` handed to the WebSocket have not been written to the browser's socket;
 * browser → desktop, the WebSocket is paused (its socket not read) while the desktop's socket
 * buffer is full, so at most one message (the WebSocket's largest) waits beyond it.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** What a relay counts; the bridge reads it for its stats and idle limit. */
export interface RelayCounters {
  bytesFromClient: number;
  bytesToClient: number;
  /** Epoch ms of the last data either way. */
  lastData: number;
}

export function relay(
  ws: WebSocket,
  desktop: Socket,
  options: {
    readonly bufferBytes: number;
    readonly counters: RelayCounters;
    /** Bytes one relay holds queued at a moment (for the peak the gateway reports). */
    readonly onBuffered: (bytes: number) => void;
    /** The desktop closed its side. */
    readonly onDesktopClosed: () => void;
    /** The browser sent a text message (RFB and RDP are binary). */
    readonly onTextMessage: () => void;
  },
): void {
  const { counters, bufferBytes } = options;
  desktop.on('close', () => options.onDesktopClosed());

  let queued = 0;
  desktop.on('data', (chunk: Buffer) => {
    counters.bytesToClient += chunk.length;
    counters.lastData = Date.now();
    queued += chunk.length;
    options.onBuffered(queued);
    ws.send(chunk, { binary: true }, () => {
      queued -= chunk.length;
      if (desktop.isPaused() && queued <= bufferBytes / 2) desktop.resume();
    });
    if (queued > bufferBytes) desktop.pause();
  });

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return options.onTextMessage();
    counters.bytesFromClient += data.length;
    counters.lastData = Date.now();
    if (!desktop.write(data)) {
      ws.pause();
      options.onBuffered(desktop.writableLength);
    }
  });
  desktop.on('drain', () => ws.resume());

  desktop.resume();
  ws.resume();
}
