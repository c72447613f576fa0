/**
 * The guide's cluster rules ("Using the Cluster Management Page", "Removing Connection
 * Brokers from a Cluster"): a broker is Running while it beats, Stopped after a clean
 * shutdown, Unavailable after three missed heartbeats; only a Stopped or Unavailable broker
 * can be removed, and its pending jobs then go to the others.
 */
import { ConflictError, NotFoundError } from '../errors.ts';
import type { BrokerIdentity, BrokerRecord, ClusterStore, RemovalResult } from './ports.ts';

export type BrokerStatus = 'Running' | 'Stopped' | 'Unavailable';

/** Missed heartbeats after which a broker is Unavailable. */
export const MISSED_HEARTBEATS = 3;

/** How long after its last heartbeat a running broker counts as Unavailable. */
export function unavailableAfterMs(heartbeatSeconds: number): number {
  return MISSED_HEARTBEATS * heartbeatSeconds * 1000;
}

/** A broker's status at `now` (the database's clock). */
export function brokerStatus(
  row: Pick<BrokerRecord, 'status' | 'heartbeatAt'>,
  now: number,
  heartbeatSeconds: number,
): BrokerStatus {
  if (row.status === 'stopped') return 'Stopped';
  return now - row.heartbeatAt > unavailableAfterMs(heartbeatSeconds) ? 'Unavailable' : 'Running';
}

/** A second live broker wants a site ID that a running broker holds. */
export class SiteIdInUseError extends ConflictError {
  readonly siteId: number;
  constructor(existing: BrokerRecord, ageSeconds: number) {
    super(
      'site_id_in_use',
      `site ID ${existing.siteId} is in use by the running broker "${existing.name}" at ${existing.address} (last heartbeat ${ageSeconds} s ago): give this broker another SITE_ID (--site-id), or stop the other one`,
    );
    this.name = 'SiteIdInUseError';
    this.siteId = existing.siteId;
  }
}

/** Remove asked for a broker that is still Running. */
export class BrokerRunningError extends ConflictError {
  constructor(siteId: number) {
    super(
      'broker_running',
      `broker ${siteId} is Running; only a Stopped or Unavailable broker (${MISSED_HEARTBEATS} missed heartbeats) can be removed`,
    );
    this.name = 'BrokerRunningError';
  }
}

/**
 * Refuses the registration when another broker (another UUID) holds the site ID and is
 * Running; a Stopped or Unavailable one is taken over, and the same broker rejoins.
 * @throws {SiteIdInUseError}
 */
export function checkRegistration(self: BrokerIdentity) {
  return (existing: BrokerRecord | undefined, now: number, heartbeatSeconds: number): void => {
    if (!existing || existing.uuid === self.uuid) return;
    if (brokerStatus(existing, now, heartbeatSeconds) === 'Running') {
      throw new SiteIdInUseError(
        existing,
        Math.max(0, Math.round((now - existing.heartbeatAt) / 1000)),
      );
    }
  };
}

/** One line of the cluster view. */
export interface ClusterMember extends BrokerRecord {
  readonly state: BrokerStatus;
  /** Seconds since its last heartbeat. */
  readonly heartbeatAgeSeconds: number;
}

/** The cluster view: every broker with its status, by site ID. */
export async function listCluster(
  store: ClusterStore,
): Promise<{ heartbeatSeconds: number; members: ClusterMember[] }> {
  const snapshot = await store.snapshot();
  const members = [...snapshot.brokers]
    .sort((a, b) => a.siteId - b.siteId)
    .map((b) => ({
      ...b,
      state: brokerStatus(b, snapshot.now, snapshot.heartbeatSeconds),
      heartbeatAgeSeconds: Math.max(0, Math.round((snapshot.now - b.heartbeatAt) / 1000)),
    }));
  return { heartbeatSeconds: snapshot.heartbeatSeconds, members };
}

/**
 * Removes a Stopped or Unavailable broker from the cluster.
 * @throws {NotFoundError} for an unknown site ID. @throws {BrokerRunningError} while it runs.
 */
export async function removeBroker(store: ClusterStore, siteId: number): Promise<RemovalResult> {
  const result = await store.remove(siteId, (row, now, heartbeatSeconds) => {
    if (brokerStatus(row, now, heartbeatSeconds) === 'Running')
      throw new BrokerRunningError(siteId);
  });
  if (!result) throw new NotFoundError('unknown_broker', `no broker with site ID ${siteId}`);
  return result;
}
