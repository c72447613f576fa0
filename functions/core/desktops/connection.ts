/**
 * What a connect answers: where the client connects (the desktop, or a gateway's forward)
 * and how (a launch file or a URI), the same in normal and leased mode.
 */

import type { ConnectionPath } from '../gateways/ports.ts';
import { type LaunchFile, launchFile, launchUri } from './launch-files.ts';

export interface Connection {
  readonly desktopId: number;
  readonly name: string;
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
  readonly via: 'direct' | 'gateway';
  readonly gateway?: string;
  readonly launchFile?: LaunchFile;
  readonly uri?: string;
}

export function connectionAnswer(input: {
  readonly desktop: { readonly id: number; readonly name: string };
  readonly protocol: string;
  readonly path: ConnectionPath;
  readonly user: string;
}): Connection {
  const { desktop, protocol, path } = input;
  const target = {
    protocol,
    host: path.host,
    port: path.port,
    user: input.user,
    desktopName: desktop.name,
  };
  const file = launchFile(target);
  const uri = launchUri(target);
  return {
    desktopId: desktop.id,
    name: desktop.name,
    protocol,
    host: path.host,
    port: path.port,
    via: path.via,
    ...(path.via === 'gateway' ? { gateway: path.gateway } : {}),
    ...(file ? { launchFile: file } : {}),
    ...(uri ? { uri } : {}),
  };
}
