import { createHash } from 'node:crypto';
import { InventoryPage, ProviderError, StandingAccessInventory, StandingAssignment } from '@jit/domain';
import { parseBrokerBinding } from './broker-binding.convention';
import { InventoryPageSizes } from './gcp-provider.options';
import { StandingCondition } from './iam-policy.editor';
import { PolicyInsight, PolicyInsightsGateway } from './policy-insights.gateway';
import { PolicyWriteCoalescer } from './policy-write.coalescer';
import { GatewayError, IamBinding, ResourceManagerGateway, SearchKind } from './resource-manager.gateway';
import { judgeCondition, memberPrincipal } from './standing-binding.classifier';

export interface GcpInventoryOptions extends InventoryPageSizes {
  now: () => Date;
  /** The broker's longest grant in seconds (JIT_MAX_DURATION); default 8 hours. */
  maxGrantSeconds?: number;
}

/** JIT_MAX_DURATION's default: a broker binding cannot end later than this after it was written. */
export const DEFAULT_MAX_GRANT_SECONDS = 8 * 3600;

export const DEFAULT_INVENTORY_OPTIONS: InventoryPageSizes = {
  searchPageSize: 500,
  insightsPageSize: 500,
  assignmentsPerPage: 500,
};

/** What `remove` and `restore` need: the binding (role and condition) and the member, on its resource. */
interface BindingLocator {
  resource: string;
  role: string;
  member: string;
  condition: StandingCondition | null;
}

/** Searches in this order: a scan reads the organization's policy first, then folders, then projects. */
const SEARCHES: Array<{ kind: SearchKind; query?: string }> = [
  { kind: 'organizations' },
  { kind: 'folders', query: 'state=ACTIVE' },
  { kind: 'projects', query: 'state:ACTIVE' },
];

/** Recommender errors that mean "no insights here" rather than a failed page: API not enabled, no permission, none for this resource. */
const NO_INSIGHTS = new Set(['PERMISSION_DENIED', 'NOT_FOUND', 'UNIMPLEMENTED', 'HTTP_403', 'HTTP_404']);

const conditionKey = (c: StandingCondition | null): string =>
  c === null ? '' : `|${createHash('sha256').update(`${c.title ?? ''}\n${c.expression}`).digest('hex').slice(0, 16)}`;

/**
 * GCP's standing access for discovery (issue 16): the organizations, folders and projects the
 * broker can find with Resource Manager search, one part each; per part, the allow policy's
 * bindings (read as version 3) with the IAM recommender's policy insights on what each member
 * used. The broker's own conditional bindings are reported as `brokerOwned`; time-bound bindings
 * that end soon are not standing and are left out (standing-binding.classifier.ts).
 */
export class GcpStandingInventory implements StandingAccessInventory {
  readonly cloud = 'gcp' as const;

  constructor(
    private readonly gateway: ResourceManagerGateway,
    private readonly insights: PolicyInsightsGateway,
    private readonly writer: PolicyWriteCoalescer,
    private readonly options: GcpInventoryOptions,
  ) {}

  /** Every active organization, folder and project search returns, in that order. */
  async parts(signal?: AbortSignal): Promise<string[]> {
    const parts = new Set<string>();
    for (const { kind, query } of SEARCHES) {
      let token: string | undefined;
      do {
        const page = await this.writer.read((s) => this.gateway.search(kind, query, token, this.options.searchPageSize, s), signal);
        for (const found of page.found) if (found.active && found.resource) parts.add(found.resource);
        token = page.nextPageToken ?? undefined;
      } while (token);
    }
    return [...parts];
  }

  /**
   * The part's bindings in key order, `assignmentsPerPage` at a time; the cursor is the last key
   * returned, so a resumed scan re-reads the policy and goes on after it.
   */
  async page(part: string, cursor: string | null, signal?: AbortSignal): Promise<InventoryPage> {
    if (!/^(projects|folders|organizations)\/[^/]+$/.test(part)) throw new ProviderError('invalid', `${part} is not a GCP inventory part`, { field: 'part' });
    const policy = await this.writer.read((s) => this.gateway.getPolicy(part, s), signal);
    const usage = await this.usage(part, signal);
    const all = this.assignments(part, policy.bindings ?? [], usage).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const rest = cursor === null ? all : all.filter((a) => a.key > cursor);
    const assignments = rest.slice(0, this.options.assignmentsPerPage);
    return { assignments, cursor: rest.length > assignments.length ? assignments[assignments.length - 1].key : null };
  }

  /** Takes the member out of the binding (etag read-modify-write, with the adapter's own writes to that policy). */
  async remove(assignment: StandingAssignment, signal?: AbortSignal): Promise<void> {
    const { resource, role, member, condition } = this.locator(assignment);
    await this.writer.submit(resource, { type: 'detach', role, member, condition }, signal);
  }

  /** Puts the member back in the binding, recreating the binding with its condition if it is gone. */
  async restore(assignment: StandingAssignment, signal?: AbortSignal): Promise<void> {
    const { resource, role, member, condition } = this.locator(assignment);
    await this.writer.submit(resource, { type: 'attach', role, member, condition }, signal);
  }

  close(): Promise<void> {
    return this.insights.close();
  }

  private assignments(resource: string, bindings: IamBinding[], usage: PolicyInsight[]): StandingAssignment[] {
    const now = this.options.now();
    const seen = new Map<string, StandingAssignment>();
    for (const binding of bindings) {
      if (!binding.role) continue;
      const broker = parseBrokerBinding(binding);
      // The title can be forged by anyone who can set the policy: a binding is the broker's only
      // if it ends within the broker's longest grant from now; a later one is standing access.
      const maxMs = (this.options.maxGrantSeconds ?? DEFAULT_MAX_GRANT_SECONDS) * 1000;
      const own = broker !== null && broker.expiresAt.getTime() <= now.getTime() + maxMs;
      // An expired binding (the broker's included, until its sweeper purges it) grants nothing.
      if (broker ? broker.expiresAt.getTime() <= now.getTime() : !judgeCondition(binding.condition?.expression, now).standing) continue;
      const condition: StandingCondition | null = binding.condition
        ? { expression: binding.condition.expression ?? '', ...(binding.condition.title && { title: binding.condition.title }), ...(binding.condition.description && { description: binding.condition.description }) }
        : null;
      for (const member of binding.members ?? []) {
        const key = `gcp|${resource}|${binding.role}|${member}${conditionKey(condition)}`;
        if (seen.has(key)) continue;
        const insight = usage.find((i) => i.member === member && i.role === binding.role && i.conditionExpression === (condition?.expression ?? ''));
        const locator: BindingLocator = { resource, role: binding.role, member, condition };
        seen.set(key, {
          cloud: 'gcp',
          key,
          principal: memberPrincipal(member),
          scope: resource,
          access: { type: 'gcp.role-binding', name: binding.role, id: binding.role },
          // IAM keeps no creation time for a binding (Cloud Audit Logs would).
          since: null,
          ...this.lastUse(insight, binding.role),
          brokerOwned: own,
          // The grant the title claims: discovery may check it is live for this principal.
          ...(broker && { brokerGrantIds: [broker.grantId] }),
          removable: !own,
          locator: { ...locator },
        });
      }
    }
    return [...seen.values()];
  }

  /**
   * From the policy insight: the permissions used in its observation period (up to 90 days). None
   * used means unused *for that period*, not never used: GCP does not know what happened before,
   * so `neverUsed` stays false, `lastUsedAt` null, and `usage.periodDays` says how long it covers
   * (discovery counts it unused for N days when `periodDays >= N`). Some used, the last use is taken as the insight's refresh
   * (the most recent it can have been). GCP lists what was used, not the role's permissions, so
   * `granted` is the role itself (all of its permissions).
   */
  private lastUse(insight: PolicyInsight | undefined, role: string): Pick<StandingAssignment, 'lastUsedAt' | 'neverUsed' | 'usage'> {
    if (!insight) return { lastUsedAt: null, neverUsed: false, usage: null };
    const usage = { granted: [role], used: insight.exercised, periodDays: insight.observationDays };
    if (insight.exercised.length === 0) return { lastUsedAt: null, neverUsed: false, usage };
    return { lastUsedAt: insight.lastRefreshTime, neverUsed: false, usage };
  }

  /** Every current policy insight on the resource; none where the Recommender is off or not allowed. */
  private async usage(resource: string, signal?: AbortSignal): Promise<PolicyInsight[]> {
    const found: PolicyInsight[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.writer.read((s) => this.insights.list(resource, token, this.options.insightsPageSize, s), signal);
        found.push(...page.insights);
        token = page.nextPageToken ?? undefined;
      } while (token);
    } catch (e) {
      const code = e instanceof ProviderError ? e.options.code : e instanceof GatewayError ? e.code : undefined;
      if (code !== undefined && NO_INSIGHTS.has(code)) return [];
      throw e;
    }
    // The freshest insight per member, role and condition.
    return found.sort((a, b) => (b.lastRefreshTime?.getTime() ?? 0) - (a.lastRefreshTime?.getTime() ?? 0));
  }

  private locator(assignment: StandingAssignment): BindingLocator {
    const { resource, role, member, condition } = assignment.locator as Partial<BindingLocator>;
    const validCondition = condition === null || (typeof condition === 'object' && typeof condition?.expression === 'string');
    if (typeof resource !== 'string' || typeof role !== 'string' || typeof member !== 'string' || !validCondition || condition === undefined) {
      throw new ProviderError('invalid', 'not a GCP standing binding locator', { field: 'locator' });
    }
    if (assignment.cloud !== 'gcp' || !assignment.removable) {
      throw new ProviderError('invalid', `${assignment.key} is not a standing GCP binding the broker may remove`, { field: 'assignment' });
    }
    return { resource, role, member, condition };
  }
}
