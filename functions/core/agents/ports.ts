/** Ports of desktop agents: desktops found by agent key, and the events agents report. */

export type AgentEventKind = 'login' | 'logout' | 'disconnect' | 'reconnect' | 'heartbeat';

export interface AgentDesktop {
  readonly id: number;
  readonly name: string;
  readonly address: string;
  readonly heldBy: string | null;
  readonly assignedUser: string | null;
}

/** What an agent event changed. */
export interface AgentEventResult {
  readonly desktop: AgentDesktop;
  /** The user whose desktop went back to the pool, if it did. */
  readonly released: string | null;
  readonly sessionState: 'none' | 'connected' | 'disconnected';
}

/** Desktop agents: find a desktop by its agent key, record what the agent reports. */
export interface AgentStore {
  desktopByAgentKey(keyHash: string): Promise<AgentDesktop | undefined>;
  /** Desktops with a session open whose agent has not reported since `cutoff` (epoch ms). */
  silentSince(cutoff: number): Promise<number[]>;
  /** Applies one event in one transaction: desktop state, desktop session, release, log row. */
  applyEvent(
    desktopId: number,
    event: AgentEventKind,
    user: string | null,
    now: number,
  ): Promise<AgentEventResult>;
}
