import { CloudName, Principal, TargetKind } from '../cloud';
import { Target } from '../target';
import { StandingAccessInventory } from './standing-access.port';

/** What a provider needs to know about one grant. */
export interface GrantSpec {
  grantId: string;
  principal: Principal;
  target: Target;
  startsAt: Date;
  expiresAt: Date;
  requestedBy: string;
  justification: string | null;
  /** Deterministic cloud-side name from `artifactName()`, stored before the first call. */
  artifactName: string;
  /**
   * What the adapter answered when the grant was provisioned (`ProvisionOutcome.providerRef`),
   * absent before: lets a revoke undo exactly what the grant changed (a membership's earlier expiry).
   */
  providerRef?: Record<string, unknown>;
}

export interface GrantContext {
  /**
   * The other grants with the same `overlapKey` that still cover it: `provisioning` or `active`
   * with no revoke recorded and no failed provisioning awaiting cleanup. Grants being ended
   * (`revoking`, `revoke_failed`) are left out, so a revoke removes access only they would still
   * use (GrantLifecycle's `coversOverlap`). A provider whose cloud object cannot hold several
   * grants side by side (one PIM schedule per principal, role and scope; one group membership)
   * uses them to keep the union in place; others can ignore them. Every path passes them: grant,
   * revoke and the cleanup of a failed provisioning.
   */
  overlapping: GrantSpec[];
}

export interface ProvisionOutcome {
  /** `active`: the cloud holds the access now. `pending`: the cloud accepted but has not settled (PIM). */
  status: 'active' | 'pending';
  /** Cloud-side identifiers, stored on the grant and returned to callers. */
  providerRef: Record<string, unknown>;
  /** Vended secrets, returned to the requester once and never stored or logged. */
  credentials?: Record<string, string>;
  /** A statement the grant must carry, e.g. that issued tokens outlive a revoke. */
  notice?: string;
}

export type ProvisionStatus =
  | { status: 'active' | 'pending'; providerRef?: Record<string, unknown> }
  | { status: 'failed'; reason: string }
  | { status: 'absent' };

/** Something in the cloud that carries the broker's naming convention. */
export interface OwnedArtifact {
  /** The grant id encoded in the artifact's name, if it could be parsed. */
  grantId: string | null;
  artifactName: string;
  /** Provider-specific locator that `removeOrphan` understands. */
  locator: Record<string, unknown>;
  description: string;
}

/** A principal and a target the database holds a grant for (see `ReconcileScope`). */
export interface GrantSubject {
  principal: Principal;
  target: Target;
  /**
   * Whether one of its grants is live (provisioning, active, revoking, revoke_failed): an adapter
   * whose artifact carries no grant id (a group membership shared by overlapping grants) tells
   * its own from an orphan by it. Unset where the store does not say.
   */
  live?: boolean;
  /** The latest `expiresAt` of its grants in the scope, where the store says. */
  lastExpiresAt?: Date;
  /**
   * When the last of its grants in the scope ended or ends, where the store says: the latest of
   * `LEAST(endedAt, expiresAt)`, so an early revoke counts from when it happened. A cloud object
   * changed after then was changed by someone else, not by the broker.
   */
  lastEndedAt?: Date;
  /**
   * The `providerRef` of each of its grants in the scope that has one (those the adapter
   * provisioned), where the store says: what the broker itself made. A grant never provisioned
   * (pending, denied, refused) has none, so it cannot make a cloud object look like the broker's.
   */
  providerRefs?: readonly Record<string, unknown>[];
}

/**
 * Where reconciliation looks, from the database rather than the adapter's memory, so a restarted
 * broker still looks where an earlier process put artifacts.
 */
export interface ReconcileScope {
  /**
   * Each distinct principal and target of this cloud's grants that may still have an artifact:
   * not ended, or ended (or expiring) within the look-back. Read once per pass when first asked;
   * adapters that list what they own without it (configured resources, a whole-tenant query) need
   * not ask.
   */
  subjects(): Promise<readonly GrantSubject[]>;
}

/** A scope with no subjects: an adapter lists only what its configuration names. */
export const EMPTY_RECONCILE_SCOPE: ReconcileScope = { subjects: async () => [] };

/**
 * One part of what the broker owns in a cloud, listed on its own so that a failing part (one
 * principal's inline policy throttled) leaves the others listed.
 */
export interface OwnedListingPart {
  /** Names the part in reports and metrics: an ARN, a resource name, the cloud. */
  readonly name: string;
  /** Everything the broker owns in this part; throws `ProviderError` when the part cannot be read. Listing again is harmless. */
  list(signal?: AbortSignal): AsyncIterable<OwnedArtifact>;
}

/**
 * One cloud's adapter. Every method is idempotent: `grant` twice is one grant, `revoke` of
 * something absent succeeds. Methods throw `ProviderError` for cloud failures.
 *
 * Every method that calls the cloud takes an optional `signal`: once it is aborted (the caller's
 * timeout, a shutdown) the adapter starts no further call or retry and cancels the requests in
 * flight (the SDK's `abortSignal`, the HTTP client's), then rejects. A write cancelled mid-way
 * may still have landed; since every method is idempotent, the caller's retry finds it.
 */
export abstract class CloudAccessProvider {
  abstract readonly cloud: CloudName;
  abstract readonly kinds: readonly TargetKind[];

  /**
   * The deterministic cloud-side name of a grant's artifact (inline policy name, binding title,
   * assignment GUID), derived from the grant id alone so a retry after a crash finds it.
   */
  abstract artifactName(grantId: string, target: Target): string;

  /**
   * Grants with equal keys give the same permission to the same principal on the same scope
   * (design.md section 4, overlapping grants).
   */
  abstract overlapKey(principal: Principal, target: Target): string;

  /**
   * Checks cloud limits that need no cloud call (sizes, counts, name patterns) and throws a
   * `ProviderError` with `kind: 'limit'` or `'invalid'` naming the limit. Called before the
   * grant is stored.
   */
  abstract validate(spec: GrantSpec): void;

  /** Makes the cloud hold the access until `expiresAt`, with cloud-side expiry where it exists. */
  abstract grant(spec: GrantSpec, context: GrantContext, signal?: AbortSignal): Promise<ProvisionOutcome>;

  /**
   * Ends the grant's access. Removes only what no grant in `context.overlapping` still covers.
   * `early` is true for a revoke before `expiresAt`: kinds with live sessions also cut those.
   * Absent means done.
   */
  abstract revoke(spec: GrantSpec, context: GrantContext & { early: boolean }, signal?: AbortSignal): Promise<void>;

  /** Reads the cloud's view of one grant (used to settle `pending` grants and after a crash). */
  abstract status(spec: GrantSpec, signal?: AbortSignal): Promise<ProvisionStatus>;

  /**
   * Lists what the broker owns in this cloud, for reconciliation: everything in `scope` (an
   * adapter may also look where its configuration says) and whatever it finds without one.
   * Throws on the first part that cannot be read; `listingParts` lets a caller go on past it.
   */
  abstract listOwned(signal?: AbortSignal, scope?: ReconcileScope): AsyncIterable<OwnedArtifact>;

  /**
   * The same listing as `listOwned`, in parts that fail alone. The default is one part, the
   * whole listing; an adapter whose listing reads several independent things (one policy per
   * principal or resource) returns one part for each.
   */
  async listingParts(scope: ReconcileScope): Promise<OwnedListingPart[]> {
    return [{ name: this.cloud, list: (signal) => this.listOwned(signal, scope) }];
  }

  /** Removes an orphan found by `listOwned`. Absent means done. */
  abstract removeOrphan(artifact: OwnedArtifact, signal?: AbortSignal): Promise<void>;

  /**
   * The one name the cloud gives a target that it knows by several (a GCP project by number and
   * by id), so access rules and the deny-list see every request for it under that name. Called
   * before the rules are asked. Throws a `ProviderError` naming the field when the name cannot be
   * resolved. Most kinds have one name: the default returns the target as it is.
   */
  async canonicalTarget(target: Target, signal?: AbortSignal): Promise<Target> {
    void signal;
    return target;
  }

  /**
   * Checks that the principal is what the request declares it to be (a user, a group, a
   * workload), where the type is not evident from its id, so rules that name principal types
   * cannot be passed by declaring another type. Throws a `ProviderError` naming the field.
   * Called before the rules are asked. The default accepts: GCP member prefixes fix the type
   * (checked with the request), and an AWS ARN cannot tell a person from a workload, so rules
   * may not restrict `principalTypes` for AWS kinds at all.
   */
  async verifyPrincipal(principal: Principal, target: Target, signal?: AbortSignal): Promise<void> {
    void principal;
    void target;
    void signal;
  }

  /**
   * Whether this kind returns credentials that can only be delivered once: what the kind's
   * descriptor says (`TargetKindDescriptor.vendsCredentials`). The default is no.
   */
  vendsCredentials(kind: TargetKind): boolean {
    void kind;
    return false;
  }

  /** Cheap check that the cloud answers with the broker's credentials. */
  abstract healthCheck(signal?: AbortSignal): Promise<void>;

  /**
   * This cloud's standing access as discovery scans it (docs/discovery.md), read with the adapter's
   * credentials and clients; null when the adapter cannot list it. The broker hands every
   * configured provider's inventory to discovery.
   */
  standingInventory(): StandingAccessInventory | null {
    return null;
  }
}

export type ProviderErrorKind =
  /** Throttled or 5xx: retry with backoff (honour `retryAfterMs`). */
  | 'transient'
  /** Not allowed, malformed: do not retry. */
  | 'terminal'
  /** A cloud limit would be exceeded: a 4xx to the requester, nothing written. */
  | 'limit'
  /** A field the cloud rejects: a 4xx naming the field. */
  | 'invalid';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly options: { code?: string; field?: string; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }

  get retryable(): boolean {
    return this.kind === 'transient';
  }
}
