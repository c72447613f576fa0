/**
 * The gateway's connection to a desktop for a browser: plain TCP for VNC; for RDP, the
 * RDCleanPath steps (forward the browser's X.224 Connection Request, read the Confirm, TLS
 * with the desktop) so the browser's IronRDP client continues on the relayed stream.
 */
import { connect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

/** Why connecting failed, as the browser is told. */
export class DesktopConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DesktopConnectError';
  }
}

/** A TCP connection to host:port; rejects after `timeoutMs` or on error. */
export function connectTcp(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    const fail = (why: string) => {
      socket.destroy();
      reject(new DesktopConnectError(why));
    };
    socket.setTimeout(timeoutMs, () => fail('the desktop did not answer in time'));
    socket.once('error', (e) => fail(e.message));
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/** Reads one TPKT (RFC 1006: version 3, 16-bit length) from the socket, at most `max` bytes. */
function readTpkt(socket: Socket, timeoutMs: number, max = 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const done = (e?: Error, value?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (e) reject(e);
      else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 4) return;
      if (got[0] !== 3) return done(new DesktopConnectError('the desktop did not answer as RDP'));
      const length = got.readUInt16BE(2);
      if (length < 4 || length > max) return done(new DesktopConnectError('bad X.224 answer'));
      if (got.length < length) return;
      socket.pause();
      if (got.length > length) socket.unshift(got.subarray(length));
      done(undefined, got.subarray(0, length));
    };
    const onError = (e: Error) => done(new DesktopConnectError(e.message));
    const onClose = () => done(new DesktopConnectError('the desktop closed the connection'));
    const timer = setTimeout(
      () => done(new DesktopConnectError('the desktop did not answer in time')),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

/**
 * The RDCleanPath steps with an RDP desktop over an open TCP socket. The desktop's
 * certificate is not checked here: the browser's client gets the chain (and binds CredSSP to
 * its key), as an RDP client does.
 * @throws {DesktopConnectError} when the desktop does not answer as RDP or TLS fails.
 */
export async function rdpHandshake(
  socket: Socket,
  x224Request: Buffer,
  timeoutMs: number,
): Promise<{ secure: TLSSocket; x224Confirm: Buffer; certificateChain: Buffer[] }> {
  socket.write(x224Request);
  const x224Confirm = await readTpkt(socket, timeoutMs);
  const secure = await new Promise<TLSSocket>((resolve, reject) => {
    const s = tlsConnect({ socket, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new DesktopConnectError('the desktop did not finish TLS in time'));
    }, timeoutMs);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(new DesktopConnectError(`TLS with the desktop failed: ${e.message}`));
    });
  });
  const certificateChain: Buffer[] = [];
  let cert = secure.getPeerCertificate(true);
  while (cert?.raw && !certificateChain.some((c) => c.equals(cert.raw))) {
    certificateChain.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return { secure, x224Confirm, certificateChain };
}
