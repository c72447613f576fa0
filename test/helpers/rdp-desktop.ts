/**
 * A real RDP server on loopback: Debian's xrdp on a free port, with a private configuration,
 * log and self-signed certificate in a temporary folder, its sign-in screen painted with a
 * known colour (`ls_top_window_bg_color`). No session behind it: signing in needs a system
 * account, which a test does not create; the sign-in screen is already RDP drawn by the server.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startTcpProxy } from './tcp-proxy.ts';

/** Whether xrdp is installed (it is not in scripts/debian-packages.sh: see the README). */
export const hasXrdp = existsSync('/usr/sbin/xrdp');

export interface RdpDesktop {
  readonly port: number;
  /** The sign-in screen's background, `#rrggbb`. */
  readonly colour: string;
  /** Connections accepted on `port` so far. */
  connections(): number;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const iniFor = (dir: string, port: number, colour: string) => `[Globals]
ini_version=1
fork=true
port=tcp://127.0.0.1:${port}
tcp_nodelay=true
security_layer=negotiate
crypt_level=high
certificate=${dir}/cert.pem
key_file=${dir}/key.pem
ssl_protocols=TLSv1.2, TLSv1.3
allow_channels=true
bitmap_cache=true
bitmap_compression=true
max_bpp=32
new_cursors=true
use_fastpath=both
ls_top_window_bg_color=${colour.slice(1)}

[Logging]
LogFile=${dir}/xrdp.log
LogLevel=INFO
EnableSyslog=false

[Channels]
cliprdr=true
drdynvc=true

[Xvnc]
name=Xvnc
lib=libvnc.so
username=ask
password=ask
ip=127.0.0.1
port=-1
`;

export async function startRdpDesktop(options: { colour?: string } = {}): Promise<RdpDesktop> {
  const colour = options.colour ?? '#3366cc';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-xrdp-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=deskbroker-test',
      '-keyout',
      `${dir}/key.pem`,
      '-out',
      `${dir}/cert.pem`,
    ],
    { stdio: 'ignore' },
  );
  const xrdpPort = await freePort();
  writeFileSync(`${dir}/xrdp.ini`, iniFor(dir, xrdpPort, colour));
  const xrdp: ChildProcess = spawn('xrdp', ['--nodaemon', '--config', `${dir}/xrdp.ini`], {
    stdio: 'ignore',
  });
  xrdp.on('error', () => {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: xrdpPort });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (xrdp.exitCode !== null || Date.now() > deadline) {
      xrdp.kill('SIGKILL');
      throw new Error('xrdp did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  // The front that counts connections, piping each to the server.
  const front = await startTcpProxy({ host: '127.0.0.1', port: xrdpPort });

  return {
    port: front.port,
    colour,
    connections: front.connections,
    async close() {
      await front.close();
      // xrdp forks a process per connection; its children end with their connections.
      await new Promise<void>((r) => {
        if (xrdp.exitCode !== null) return r();
        xrdp.once('exit', () => r());
        xrdp.kill('SIGTERM');
        setTimeout(() => {
          xrdp.kill('SIGKILL');
          r();
        }, 3_000).unref();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
