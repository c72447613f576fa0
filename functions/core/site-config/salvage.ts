/**
 * What the reference checks read of a configuration, and how to read it from a document that
 * does not (yet) fit the schema: every name and reference that is a string is kept, at its
 * index, whatever is wrong elsewhere in its entry. So a file with a shape error (a bad port,
 * an unknown field) still has its broken references reported in the same pass.
 */

type Maybe<T> = T | undefined;

/** The part of a configuration the reference checks read; a parsed SiteConfig is one. */
export interface ReferenceView {
  readonly authServers: readonly {
    readonly name: Maybe<string>;
    readonly type: Maybe<string>;
    readonly enabled: boolean;
  }[];
  readonly users: readonly { readonly name: Maybe<string>; readonly authServer?: string }[];
  readonly roles: readonly { readonly name: Maybe<string> }[];
  readonly gateways: readonly { readonly name: Maybe<string> }[];
  readonly gatewayClusters: readonly {
    readonly name: Maybe<string>;
    readonly members: readonly Maybe<string>[];
  }[];
  readonly protocolPlans: readonly {
    readonly name: Maybe<string>;
    readonly protocols: readonly { readonly gateway?: string }[];
  }[];
  readonly pools: readonly {
    readonly name: Maybe<string>;
    readonly desktops: readonly { readonly name: Maybe<string> }[];
  }[];
  readonly locations: readonly {
    readonly name: Maybe<string>;
    readonly protocolPlan?: string;
    readonly rules: readonly { readonly op: Maybe<string>; readonly value: Maybe<string> }[];
  }[];
  readonly policies: readonly {
    readonly name: Maybe<string>;
    readonly entries: readonly {
      readonly pool: Maybe<string>;
      readonly backupPool?: string;
      readonly protocolPlan?: string;
    }[];
  }[];
  readonly assignments: readonly {
    readonly location?: string;
    readonly role: Maybe<string>;
    readonly policy: Maybe<string>;
  }[];
}

type Obj = Record<string, unknown>;

const list = (v: unknown): Obj[] =>
  Array.isArray(v) ? v.map((x) => (x !== null && typeof x === 'object' ? (x as Obj) : {})) : [];
/** A name or reference as the schema reads it (trimmed); undefined when it is not one. */
const str = (v: unknown): string | undefined => {
  if (typeof v !== 'string') return undefined;
  const trimmed = v.trim();
  return trimmed === '' ? undefined : trimmed;
};

/** The reference view of any document, however broken its shape. */
export function salvage(document: unknown): ReferenceView {
  const doc = document !== null && typeof document === 'object' ? (document as Obj) : {};
  return {
    authServers: list(doc.authServers).map((s) => ({
      name: str(s.name),
      type: str(s.type),
      enabled: typeof s.enabled === 'boolean' ? s.enabled : true,
    })),
    users: list(doc.users).map((u) => ({ name: str(u.name), authServer: str(u.authServer) })),
    roles: list(doc.roles).map((r) => ({ name: str(r.name) })),
    gateways: list(doc.gateways).map((g) => ({ name: str(g.name) })),
    gatewayClusters: list(doc.gatewayClusters).map((c) => ({
      name: str(c.name),
      members: Array.isArray(c.members) ? c.members.map(str) : [],
    })),
    protocolPlans: list(doc.protocolPlans).map((p) => ({
      name: str(p.name),
      protocols: list(p.protocols).map((e) => ({ gateway: str(e.gateway) })),
    })),
    pools: list(doc.pools).map((p) => ({
      name: str(p.name),
      desktops: list(p.desktops).map((d) => ({ name: str(d.name) })),
    })),
    locations: list(doc.locations).map((l) => ({
      name: str(l.name),
      protocolPlan: str(l.protocolPlan),
      rules: list(l.rules).map((r) => ({ op: str(r.op), value: str(r.value) })),
    })),
    policies: list(doc.policies).map((p) => ({
      name: str(p.name),
      entries: list(p.entries).map((e) => ({
        pool: str(e.pool),
        backupPool: str(e.backupPool),
        protocolPlan: str(e.protocolPlan),
      })),
    })),
    assignments: list(doc.assignments).map((a) => ({
      location: str(a.location),
      role: str(a.role),
      policy: str(a.policy),
    })),
  };
}
