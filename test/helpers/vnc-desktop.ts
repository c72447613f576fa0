/**
 * A real VNC desktop on loopback, all from Debian's packages: an X display (Xvfb, on a free
 * display number) painted with a known colour (xsetroot), served by x11vnc, with a counting
 * TCP listener in front, so a test can tell whether anything reached the desktop's port.
 * `xterm`, `xdotool` and `xclip` work on the same display.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { startTcpProxy } from './tcp-proxy.ts';

const run = promisify(execFile);

export interface VncDesktop {
  /** X display name, `:N`. */
  readonly display: string;
  /** The desktop's port as the broker knows it: a counting front to x11vnc. */
  readonly port: number;
  /** The colour the root window is painted with, `#rrggbb`. */
  readonly colour: string;
  readonly width: number;
  readonly height: number;
  /** Connections accepted on `port` so far. */
  connections(): number;
  /** Runs an X client on the display; resolves its standard output. */
  x(command: string, args: string[], input?: string): Promise<string>;
  /**
   * Opens an xterm at the top left (resolves once it is mapped) that reads one line and then shows it as its title
   * (`typed:<line>`); resolves the window id.
   */
  lineReader(title: string): Promise<string>;
  /** Owns the CLIPBOARD selection with `text` (xclip keeps serving it). */
  setClipboard(text: string): Promise<void>;
  /** The CLIPBOARD selection's text. */
  clipboard(): Promise<string>;
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

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves the first 12 bytes a server sends on connect (RFB: `RFB 003.008\n`). */
function greeting(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(undefined);
    });
    s.on('error', () => resolve(undefined));
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 12) {
        s.destroy();
        resolve(got.subarray(0, 12).toString('latin1'));
      }
    });
  });
}

export async function startVncDesktop(
  options: { colour?: string; width?: number; height?: number } = {},
): Promise<VncDesktop> {
  const colour = options.colour ?? '#3366cc';
  const width = options.width ?? 800;
  const height = options.height ?? 600;
  const children: ChildProcess[] = [];
  const spawnChild = (
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
    stdin: 'ignore' | 'pipe' = 'ignore',
  ) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: [stdin, 'ignore', 'ignore', 'pipe'],
    });
    child.on('error', () => {});
    children.push(child);
    return child;
  };

  // -displayfd: Xvfb picks a free display number and writes it to fd 3. -noreset: without it
  // the server resets (root colour and all) whenever its last client, xsetroot, disconnects.
  const xvfb = spawnChild('Xvfb', [
    '-noreset',
    '-displayfd',
    '3',
    '-screen',
    '0',
    `${width}x${height}x24`,
    '-nolisten',
    'tcp',
  ]);
  const number = await new Promise<string>((resolve, reject) => {
    let text = '';
    xvfb.stdio[3]!.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) resolve(text.trim());
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
  });
  const display = `:${number}`;
  const x = async (command: string, args: string[], input?: string) => {
    const child = run(command, args, { env: { ...process.env, DISPLAY: display } });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    return (await child).stdout;
  };
  await x('xsetroot', ['-solid', colour]);

  const vncPort = await freePort();
  // X11VNC_AVOID_WINDOWS=never: x11vnc otherwise waits 8-45 s after the first client (for a
  // display manager to go) before it creates the window that owns and watches selections,
  // so the clipboard does nothing in a short session (x11vnc src/xevents.c guess_dm_gone).
  spawnChild(
    'x11vnc',
    [
      '-display',
      display,
      '-localhost',
      '-rfbport',
      String(vncPort),
      '-forever',
      '-shared',
      '-nopw',
      '-quiet',
    ],
    { X11VNC_AVOID_WINDOWS: 'never' },
  );
  await until('x11vnc', async () =>
    (await greeting(vncPort))?.startsWith('RFB ') ? true : undefined,
  );

  // The front that counts connections, piping each to the server.
  const front = await startTcpProxy({ host: '127.0.0.1', port: vncPort });
  const port = front.port;

  return {
    display,
    port,
    colour,
    width,
    height,
    connections: front.connections,
    x,
    async lineReader(title) {
      spawnChild(
        'xterm',
        [
          '-fa',
          'DejaVu Sans Mono',
          '-geometry',
          '60x10+0+0',
          '-T',
          title,
          '-e',
          'sh',
          '-c',
          'read -r line; printf "\\033]2;typed:%s\\007" "$line"; sleep 3600',
        ],
        { DISPLAY: display },
      );
      return until('the xterm window', async () => {
        const ids = (
          await x('xdotool', ['search', '--onlyvisible', '--name', `^${title}$`])
        ).trim();
        return ids ? ids.split('\n')[0] : undefined;
      });
    },
    async setClipboard(text) {
      // -quiet keeps xclip in the foreground, serving the selection until it is replaced.
      const xclip = spawnChild(
        'xclip',
        ['-selection', 'clipboard', '-i', '-quiet'],
        { DISPLAY: display },
        'pipe',
      );
      xclip.stdin!.end(text);
      await until('the clipboard', async () =>
        (await x('xclip', ['-selection', 'clipboard', '-o'])) === text ? true : undefined,
      );
    },
    async clipboard() {
      return x('xclip', ['-selection', 'clipboard', '-o']).catch(() => '');
    },
    async close() {
      await front.close();
      for (const child of children.reverse()) {
        if (child.exitCode === null) child.kill('SIGTERM');
      }
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((r) => {
              if (c.exitCode !== null || c.signalCode !== null) return r();
              c.once('exit', () => r());
              setTimeout(() => {
                c.kill('SIGKILL');
                r();
              }, 2_000).unref();
            }),
        ),
      );
    },
  };
}
