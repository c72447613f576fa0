/**
 * What a connect answers, the same in normal and leased mode: either where a desktop client
 * connects (the desktop, or a gateway's forward) and how (a launch file or a URI), or, for a
 * desktop shown in the browser, the gateway's WebSocket URL and a one-time ticket.
 */

import type { BrowserProtocol } from '../gateways/html5-wire.ts';
import type { BrowserPath, ConnectionPath } from '../gateways/ports.ts';
import { type LaunchFile, launchFile, launchUri } from './launch-files.ts';

/** For a desktop client (`display: "client"`, the default). */
export interface ClientConnection {
  readonly desktopId: number;
  readonly name: string;
  readonly protocol: string;
  readonly display: 'client';
  readonly host: string;
  readonly port: number;
  readonly via: 'direct' | 'gateway';
  readonly gateway?: string;
  readonly launchFile?: LaunchFile;
  readonly uri?: string;
}

/** For the browser (`display: "browser"`): open `webSocket.url` offering the ticket. */
export interface BrowserConnection {
  readonly desktopId: number;
  readonly name: string;
  readonly protocol: BrowserProtocol;
  readonly display: 'browser';
  readonly via: 'gateway';
  readonly gateway: string;
  readonly webSocket: {
    readonly url: string;
    /** One-time, for this client address only, until `expiresAt` (epoch ms). */
    readonly ticket: string;
    readonly expiresAt: number;
  };
}

export type Connection = ClientConnection | BrowserConnection;

/** How the user wants to see the desktop. */
export type Display = Connection['display'];

export function connectionAnswer(input: {
  readonly desktop: { readonly id: number; readonly name: string };
  readonly protocol: string;
  readonly path: ConnectionPath;
  readonly user: string;
}): ClientConnection {
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
    display: 'client',
    host: path.host,
    port: path.port,
    via: path.via,
    ...(path.via === 'gateway' ? { gateway: path.gateway } : {}),
    ...(file ? { launchFile: file } : {}),
    ...(uri ? { uri } : {}),
  };
}

export function browserConnectionAnswer(input: {
  readonly desktop: { readonly id: number; readonly name: string };
  readonly protocol: BrowserProtocol;
  readonly path: BrowserPath;
  readonly ticket: { readonly ticket: string; readonly expiresAt: number };
}): BrowserConnection {
  return {
    desktopId: input.desktop.id,
    name: input.desktop.name,
    protocol: input.protocol,
    display: 'browser',
    via: 'gateway',
    gateway: input.path.gateway,
    webSocket: { url: input.path.url, ...input.ticket },
  };
}
