import { CloudName } from '../cloud';

/**
 * Discovery of standing access (issue 16, docs/discovery.md): what each cloud lists, as the
 * provider libs read it, and what the discovery and review use cases share. The provider libs
 * implement `StandingAccessInventory`; `libs/discovery` judges, stores and removes; `libs/reviews`
 * reads findings and asks for removals through `DiscoveryFindingsReader` and `StandingRemovals`.
 */

/** How the cloud names the holder of a standing assignment. */
export const STANDING_PRINCIPAL_KINDS = ['user', 'group', 'role', 'service_principal', 'managed_identity', 'service_account', 'unknown'] as const;
export type StandingPrincipalKind = (typeof STANDING_PRINCIPAL_KINDS)[number];

export interface StandingPrincipal {
  /** The cloud's id: an IAM ARN, an Entra object id, a GCP member (`user:…`, `serviceAccount:…`). */
  id: string;
  kind: StandingPrincipalKind;
  /** A person (true) or a workload (false); null where the cloud cannot tell (an AWS role, a group). */
  human: boolean | null;
  displayName?: string;
}

/** What a standing assignment gives. */
export interface StandingAccess {
  /**
   * The cloud's mechanism: `aws.managed-policy`, `aws.inline-policy`, `azure.role-assignment`,
   * `azure.pim-eligible`, `azure.pim-active`, `azure.directory-role`, `gcp.role-binding`, ...
   */
  type: string;
  /** The role or policy as people name it: `AdministratorAccess`, `Owner`, `roles/editor`. */
  name: string;
  /** The cloud's id of the role or policy, where it has one (policy ARN, role definition id). */
  id?: string;
  /** The actions or permissions it allows, where the cloud lists them (what the privilege criteria read). */
  actions?: string[];
  /** Actions it allows through `NotAction`-style exclusion (AWS), where present: everything but these. */
  notActions?: string[];
}

/**
 * Access types that are eligibility, not held access (Azure PIM): the holder must still activate
 * them. Judged like the rest ("eligible for …") but counted apart from standing privilege.
 */
export const ELIGIBLE_ACCESS_TYPES: readonly string[] = ['azure.pim-eligible'];

/** One standing assignment as a cloud lists it, before it is judged. */
export interface StandingAssignment {
  cloud: CloudName;
  /** Stable across scans: the same assignment has the same key in every scan (a finding is tracked by it). */
  key: string;
  principal: StandingPrincipal;
  /** Where it applies: `aws:123456789012`, an ARM scope, `projects/p`, `/` for an Entra tenant. */
  scope: string;
  access: StandingAccess;
  /** When it was made, where the cloud records it. */
  since: Date | null;
  /** The principal's (or this access's) last use, where the cloud records it; null when unknown or never. */
  lastUsedAt: Date | null;
  /** Whether `lastUsedAt` is known to be "never used" (true) rather than not recorded (false). */
  neverUsed?: boolean;
  /** What was granted against what was used in the cloud's tracking period, where the cloud reports it. */
  usage?: { granted: string[]; used: string[]; periodDays: number } | null;
  /** Made by the broker (its naming convention): recognised so discovery does not report it. */
  brokerOwned: boolean;
  /**
   * The grant ids the assignment claims to serve (from its name, description or statement ids).
   * A name can be forged by anyone who can write the cloud, so discovery reports a `brokerOwned`
   * assignment unless a grant it claims is live in the database for the same cloud and principal.
   */
  brokerGrantIds?: string[];
  /** Whether `StandingAccessInventory.remove` can take it away (and `restore` put it back). */
  removable: boolean;
  /** Everything `remove` and `restore` need, opaque outside the provider lib, stored with the finding. */
  locator: Record<string, unknown>;
}

/** One page of one part of a cloud's inventory. */
export interface InventoryPage {
  assignments: StandingAssignment[];
  /** Where the next page of this part starts; null when the part is done. Stored, so a scan resumes after a crash. */
  cursor: string | null;
}

/**
 * A cloud's read-only view of its standing access (plus the removal and restore of one assignment),
 * served by its provider lib with the adapter's credentials. Calls stay within the cloud's rate limits
 * (the adapter's retry policy honours throttling) and take a `signal` like every cloud call.
 */
export interface StandingAccessInventory {
  readonly cloud: CloudName;
  /** The independent parts a scan walks (an account, a subscription, a project, the tenant), each resumable on its own. */
  parts(signal?: AbortSignal): Promise<string[]>;
  /** One page of a part from `cursor` (null: its start). Throws `ProviderError` when the page cannot be read. */
  page(part: string, cursor: string | null, signal?: AbortSignal): Promise<InventoryPage>;
  /** Takes a standing assignment away. Absent means done. */
  remove(assignment: StandingAssignment, signal?: AbortSignal): Promise<void>;
  /** Puts a removed assignment back as `page` listed it. Present means done. */
  restore(assignment: StandingAssignment, signal?: AbortSignal): Promise<void>;
}

export const FINDING_STATUSES = ['open', 'resolved', 'removed'] as const;
/** `open`: seen in the latest scan. `resolved`: gone from a later scan. `removed`: taken away through the broker. */
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** A standing assignment as discovery judged and stored it, tracked across scans by `key`. */
export interface DiscoveryFinding extends Omit<StandingAssignment, 'brokerOwned'> {
  id: string;
  privileged: boolean;
  /** Why it is privileged (or not): the criteria that matched, in words people read. */
  reasons: string[];
  status: FindingStatus;
  firstSeenAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
}

export interface DiscoveryFindingFilter {
  cloud?: CloudName;
  privileged?: boolean;
  status?: FindingStatus;
  /** Only findings unused for at least this many days (or never used). */
  unusedForDays?: number;
  principalKind?: StandingPrincipalKind;
  human?: boolean;
  /** Glob on `scope` and on `access.name`. */
  scope?: string;
  access?: string;
}

/** How access reviews read discovery's findings. */
export interface DiscoveryFindingsReader {
  get(id: string): Promise<DiscoveryFinding | null>;
  /** Findings in a stable order (`id`), `limit` at a time, from `after` (the last id of the previous page). */
  list(filter: DiscoveryFindingFilter, page: { after?: string; limit: number }): Promise<DiscoveryFinding[]>;
}

export const STANDING_REMOVAL_STATES = ['pending_approval', 'approved', 'applied', 'failed', 'denied', 'restored'] as const;
export type StandingRemovalState = (typeof STANDING_REMOVAL_STATES)[number];

/** A request to take a standing assignment away, with what is needed to restore it. */
export interface StandingRemoval {
  id: string;
  findingId: string;
  state: StandingRemovalState;
  requestedBy: string;
  justification: string;
  /** `discovery` (asked directly) or `review:<campaignId>` (a review decision). */
  origin: string;
  createdAt: Date;
  updatedAt: Date;
  lastError: string | null;
}

/** How access reviews ask for a removal: it goes through the same approvals and audit as one asked directly. */
export interface StandingRemovals {
  request(findingId: string, by: { actor: string; justification: string; origin: string }): Promise<StandingRemoval>;
  get(id: string): Promise<StandingRemoval | null>;
}
