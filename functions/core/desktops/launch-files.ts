/**
 * Launch files a client opens to start the session: `.rdp` for RDP (Microsoft's format),
 * `.vnc` for VNC viewers, `.dcv` for Amazon DCV; SSH and web protocols get a URI instead.
 */
export interface LaunchFile {
  readonly name: string;
  readonly contentType: string;
  readonly content: string;
}

export interface LaunchTarget {
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly desktopName: string;
}

const safeName = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '_');
const hostPort = (host: string, port: number) =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

/** The launch file for a connection, when the protocol has one. */
export function launchFile(t: LaunchTarget): LaunchFile | undefined {
  switch (t.protocol) {
    case 'rdp':
      return {
        name: `${safeName(t.desktopName)}.rdp`,
        contentType: 'application/x-rdp',
        // https://learn.microsoft.com/windows-server/remote/remote-desktop-services/clients/rdp-files
        content: [
          `full address:s:${hostPort(t.host, t.port)}`,
          `username:s:${t.user}`,
          'prompt for credentials:i:1',
          'screen mode id:i:2',
          'session bpp:i:32',
          'redirectclipboard:i:1',
          'authentication level:i:2',
          'autoreconnection enabled:i:1',
          '',
        ].join('\r\n'),
      };
    case 'vnc':
      return {
        name: `${safeName(t.desktopName)}.vnc`,
        contentType: 'application/x-vnc',
        content: `[connection]\nhost=${t.host}\nport=${t.port}\n`,
      };
    case 'dcv':
      return {
        name: `${safeName(t.desktopName)}.dcv`,
        contentType: 'application/x-dcv',
        content: `[version]\nformat=1.0\n\n[connect]\nhost=${t.host}\nport=${t.port}\nuser=${t.user}\nweburlpath=\n`,
      };
    default:
      return undefined;
  }
}

/** A URI for protocols without a launch file (`ssh://user@host:port`, `https://host:port/`). */
export function launchUri(t: LaunchTarget): string | undefined {
  switch (t.protocol) {
    case 'ssh':
      return `ssh://${encodeURIComponent(t.user)}@${hostPort(t.host, t.port)}`;
    case 'http':
    case 'https':
      return `${t.protocol}://${hostPort(t.host, t.port)}/`;
    default:
      return undefined;
  }
}
