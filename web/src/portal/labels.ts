/** Words for what the API sends as codes. */
import type { Offer } from '../shared/portal-api.ts';

export const STATUS_LABEL: Record<Offer['status'], string> = {
  available: 'Available',
  assigned: 'Assigned to you',
  held: 'In use by you',
};

const PROTOCOL_LABEL: Record<string, string> = {
  rdp: 'RDP',
  vnc: 'VNC',
  dcv: 'DCV',
  ssh: 'SSH',
  pcoip: 'PCoIP',
  http: 'Web',
  https: 'Web (HTTPS)',
};

export const protocolLabel = (p: string) => PROTOCOL_LABEL[p] ?? p.toUpperCase();
