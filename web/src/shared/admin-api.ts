/** The calls the admin console makes, typed by the API contract. */

import type {
  desktopsRoute,
  poolsRoute,
  releaseDesktopRoute,
} from '../../../functions/handlers/api/admin/desktops.ts';
import type { gatewaysRoute } from '../../../functions/handlers/api/admin/gateways.ts';
import type { logRoute } from '../../../functions/handlers/api/admin/log.ts';
import type { jobsSummaryRoute } from '../../../functions/handlers/api/admin/overview.ts';
import type {
  clientsRoute,
  endSessionRoute,
  sessionsRoute,
} from '../../../functions/handlers/api/admin/sessions.ts';
import type {
  applyConfigRoute,
  clusterRoute,
  jobsRoute,
  leasesRoute,
  rebuildLeasesRoute,
  removeBrokerRoute,
  removeLeaseRoute,
  removeLeasesRoute,
  revokeLeasesRoute,
  unrevokeLeasesRoute,
} from '../../../functions/handlers/api/admin.ts';
import { type Answer, ApiError, call, type Query } from './api.ts';

export type Cluster = Answer<typeof clusterRoute>;
export type Broker = Cluster['brokers'][number];
export type Jobs = Answer<typeof jobsRoute>;
export type Job = Jobs['jobs'][number];
export type JobsSummary = Answer<typeof jobsSummaryRoute>;
export type Desktops = Answer<typeof desktopsRoute>;
export type Desktop = Desktops['desktops'][number];
export type DesktopStatus = Desktop['status'];
export type Pools = Answer<typeof poolsRoute>;
export type Pool = Pools['pools'][number];
export type Sessions = Answer<typeof sessionsRoute>;
export type Session = Sessions['sessions'][number];
export type Clients = Answer<typeof clientsRoute>;
export type Client = Clients['clients'][number];
export type Gateways = Answer<typeof gatewaysRoute>;
export type Gateway = Gateways['gateways'][number];
export type ConfiguredGateway = Extract<Gateway, { source: 'configured' }>;
export type RegisteredGateway = Extract<Gateway, { source: 'registered' }>;
export type LogPage = Answer<typeof logRoute>;
export type LogRecord = LogPage['log'][number];
export type Leases = Answer<typeof leasesRoute>;
export type Lease = Leases['leases'][number];
export type ApplyAnswer = Answer<typeof applyConfigRoute>;

/** A query as the pages keep it: strings from the URL. */
type Params<R> = { [K in keyof Query<R>]?: string };

/** One problem of a configuration, with the line of the file it names. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
  readonly line: number | null;
}

/** The problems of a refused configuration, from the API's 400 answer. */
export function configIssues(e: unknown): ConfigIssue[] | undefined {
  if (!(e instanceof ApiError) || e.code !== 'invalid_config') return undefined;
  const issues = e.details.issues;
  return Array.isArray(issues) ? (issues as ConfigIssue[]) : undefined;
}

/**
 * Every part of a log download: one part from the local broker (streamed whole), several of
 * under 1 MB each on AWS (a Lambda behind a load balancer), each naming the next. Joined
 * into one file in the browser.
 */
async function logDownload(query: Params<typeof logRoute>): Promise<Blob> {
  const parts: BlobPart[] = [];
  let cursor: string | undefined;
  do {
    const url = new URL('/api/v1/admin/log', location.origin);
    for (const [k, v] of Object.entries({ ...query, cursor }))
      if (v) url.searchParams.set(k, String(v));
    const res = await fetch(url, { credentials: 'same-origin' });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
      throw new ApiError(res.status, body.error ?? `http_${res.status}`, body.message ?? '');
    }
    parts.push(await res.blob());
    cursor = res.headers.get('x-next-cursor') ?? undefined;
  } while (cursor);
  return new Blob(parts, { type: query.format === 'csv' ? 'text/csv' : 'application/jsonl' });
}

export const adminApi = {
  cluster: () => call<Cluster>('GET', '/api/v1/admin/cluster'),
  removeBroker: (siteId: number) =>
    call<Answer<typeof removeBrokerRoute>>('DELETE', `/api/v1/admin/cluster/${siteId}`),
  jobs: (query: Params<typeof jobsRoute>) => call<Jobs>('GET', '/api/v1/admin/jobs', { query }),
  jobsSummary: () => call<JobsSummary>('GET', '/api/v1/admin/jobs/summary'),
  desktops: (query: Params<typeof desktopsRoute>) =>
    call<Desktops>('GET', '/api/v1/admin/desktops', { query }),
  release: (desktopId: number) =>
    call<Answer<typeof releaseDesktopRoute>>('POST', `/api/v1/admin/desktops/${desktopId}/release`),
  pools: (query: Params<typeof poolsRoute>) => call<Pools>('GET', '/api/v1/admin/pools', { query }),
  sessions: (query: Params<typeof sessionsRoute>) =>
    call<Sessions>('GET', '/api/v1/admin/sessions', { query }),
  endSession: (id: string) =>
    call<Answer<typeof endSessionRoute>>('DELETE', `/api/v1/admin/sessions/${id}`),
  clients: (query: Params<typeof clientsRoute>) =>
    call<Clients>('GET', '/api/v1/admin/clients', { query }),
  gateways: (query: Params<typeof gatewaysRoute>) =>
    call<Gateways>('GET', '/api/v1/admin/gateways', { query }),
  log: (query: Params<typeof logRoute>) => call<LogPage>('GET', '/api/v1/admin/log', { query }),
  logDownload,
  leases: (query: Params<typeof leasesRoute>) =>
    call<Leases>('GET', '/api/v1/admin/leases', { query }),
  removeLeases: (query: Params<typeof removeLeasesRoute>) =>
    call<Answer<typeof removeLeasesRoute>>('DELETE', '/api/v1/admin/leases', { query }),
  removeLease: (user: string, desktopId: number) =>
    call<Answer<typeof removeLeaseRoute>>(
      'DELETE',
      `/api/v1/admin/leases/${encodeURIComponent(user)}/${desktopId}`,
    ),
  revoke: (user: string) =>
    call<Answer<typeof revokeLeasesRoute>>('POST', '/api/v1/admin/leases/revoke', {
      body: { user },
    }),
  unrevoke: (user: string) =>
    call<Answer<typeof unrevokeLeasesRoute>>('POST', '/api/v1/admin/leases/unrevoke', {
      body: { user },
    }),
  rebuildLeases: () =>
    call<Answer<typeof rebuildLeasesRoute>>('POST', '/api/v1/admin/leases/rebuild'),
  exportConfig: () => call<string>('GET', '/api/v1/admin/config', { query: { format: 'yaml' } }),
  applyConfig: (yaml: string, dryRun: boolean) =>
    call<ApplyAnswer>('PUT', '/api/v1/admin/config', {
      query: dryRun ? { dryRun: 'true' } : {},
      text: { content: yaml, type: 'application/yaml' },
    }),
};
