import { randomBytes } from 'node:crypto';
import { GoogleApiError } from './google-api.error';
import { QueryTerm, matchesQuery, pageOf, parseQuery, readListRequest } from './list-request';

/**
 * Recommender v1 `{projects,folders,organizations}.locations.insightTypes.insights.list` for the
 * IAM policy insights (`google.iam.policy.Insight`, location `global`): per role binding, the
 * permissions the member exercised in the observation period (specs/gcp/recommender/v1). The
 * content's fields (`role`, `member`, `condition`, `exercisedPermissions`, `inferredPermissions`,
 * `currentTotalPermissionsCount`) are not in the discovery document, whose `content` is a free
 * struct; they follow Google's published reference for policy insights.
 */

export const INSIGHTS_ROUTE = /^\/v1\/((projects|folders|organizations)\/[^/]+)\/locations\/([^/]+)\/insightTypes\/([^/]+)\/insights$/;
export const IAM_POLICY_INSIGHT = 'google.iam.policy.Insight';
export const INSIGHT_STATES = ['STATE_UNSPECIFIED', 'ACTIVE', 'ACCEPTED', 'DISMISSED'] as const;
export const INSIGHT_CATEGORIES = ['CATEGORY_UNSPECIFIED', 'COST', 'SECURITY', 'PERFORMANCE', 'MANAGEABILITY'] as const;
export type InsightState = (typeof INSIGHT_STATES)[number];

/** Page sizes: unspecified lets the server pick (the simulator, 50); larger requests are capped. */
const PAGE_SIZES = { default: 50, max: 1000 };
/** Google observes 90 days of use for IAM policy insights. */
const DEFAULT_OBSERVATION_DAYS = 90;

export interface PolicyInsightSeed {
  member: string;
  role: string;
  /** Permissions the member used in the observation period (empty: none of the role's). */
  exercisedPermissions: string[];
  /** Permissions it did not use but may need, by Google's inference. */
  inferredPermissions?: string[];
  /** How many permissions the role grants. */
  currentTotalPermissionsCount: number;
  condition?: { expression: string; title?: string; description?: string; location?: string };
  observationPeriodDays?: number;
  lastRefreshTime?: Date;
  state?: Exclude<InsightState, 'STATE_UNSPECIFIED'>;
}

interface StoredInsight {
  id: string;
  seed: PolicyInsightSeed;
  etag: string;
}

const FILTER_FIELDS: Record<string, (i: StoredInsight, value: string) => boolean> = {
  state: (i, v) => (i.seed.state ?? 'ACTIVE') === v.toUpperCase(),
  'stateinfo.state': (i, v) => (i.seed.state ?? 'ACTIVE') === v.toUpperCase(),
  insightsubtype: (_i, v) => v.toUpperCase() === 'PERMISSIONS_USAGE',
};

function filterTerm(insight: StoredInsight, term: QueryTerm): boolean {
  const read = FILTER_FIELDS[term.field.toLowerCase()];
  if (!read) throw GoogleApiError.invalid(`Invalid filter: field "${term.field}" is not supported (stateInfo.state, insightSubtype).`);
  if (/state$/i.test(term.field) && !INSIGHT_STATES.includes(term.value.toUpperCase() as InsightState)) {
    throw GoogleApiError.invalid(`Invalid filter: "${term.value}" is not an insight state.`);
  }
  return read(insight, term.value);
}

/** The policy insights the simulator holds, per resource (keyed where its policy lives). */
export class PolicyInsightStore {
  private readonly insights = new Map<string, StoredInsight[]>();
  private readonly disabled = new Set<string>();

  add(policyResource: string, seed: PolicyInsightSeed): string {
    const id = randomBytes(12).toString('hex');
    const list = this.insights.get(policyResource) ?? [];
    list.push({ id, seed: structuredClone(seed), etag: `"${randomBytes(8).toString('hex')}"` });
    this.insights.set(policyResource, list);
    return id;
  }

  clear(policyResource: string): void {
    this.insights.delete(policyResource);
  }

  /** A project where the Recommender API is not enabled answers 403 SERVICE_DISABLED. */
  setEnabled(policyResource: string, enabled: boolean): void {
    if (enabled) this.disabled.delete(policyResource);
    else this.disabled.add(policyResource);
  }

  /**
   * `apiName`: the resource as insight names carry it (`projects/<number>`); `allowed`: whether the
   * caller holds `recommender.iamPolicyInsights.list` there.
   */
  list(
    url: URL,
    route: RegExpExecArray,
    target: { policyResource: string; apiName: string; exists: boolean; allowed: boolean },
    numericEnums: boolean,
  ): unknown {
    const [, parent, , location, insightType] = route;
    if (!target.exists || !target.allowed) {
      throw new GoogleApiError('PERMISSION_DENIED', `Permission 'recommender.iamPolicyInsights.list' denied on resource '${parent}' (or it may not exist).`);
    }
    if (this.disabled.has(target.policyResource)) {
      throw new GoogleApiError(
        'PERMISSION_DENIED',
        `Recommender API has not been used in ${target.apiName} before or it is disabled. Enable it by visiting the API library, then retry.`,
      );
    }
    if (insightType !== IAM_POLICY_INSIGHT) throw GoogleApiError.invalid(`Insight type ${insightType} is not supported by the simulator.`);
    if (location !== 'global') throw GoogleApiError.invalid(`Insight type ${insightType} is only available in location global, not ${location}.`);
    const request = readListRequest(url, ['filter'], PAGE_SIZES);
    const groups = parseQuery(request.params.filter ?? '', 'AND', 'filter');
    const all = (this.insights.get(target.policyResource) ?? []).filter((i) => matchesQuery(groups, i, filterTerm));
    const prefix = `${target.apiName}/locations/global/insightTypes/${IAM_POLICY_INSIGHT}/insights/`;
    const { page, nextPageToken } = pageOf(all, (i) => i.id, request);
    return {
      ...(page.length > 0 && { insights: page.map((i) => this.render(prefix + i.id, i, target.apiName, numericEnums)) }),
      ...(nextPageToken && { nextPageToken }),
    };
  }

  private render(name: string, { seed, etag }: StoredInsight, apiName: string, numericEnums: boolean): Record<string, unknown> {
    const state = seed.state ?? 'ACTIVE';
    const days = seed.observationPeriodDays ?? DEFAULT_OBSERVATION_DAYS;
    const unused = seed.currentTotalPermissionsCount - seed.exercisedPermissions.length;
    return {
      name,
      description: seed.exercisedPermissions.length === 0
        ? `${seed.member} has not used any of the ${seed.currentTotalPermissionsCount} permissions of ${seed.role} in the last ${days} days.`
        : `${unused} of the ${seed.currentTotalPermissionsCount} permissions of ${seed.role} granted to ${seed.member} were not used in the last ${days} days.`,
      content: {
        role: seed.role,
        member: seed.member,
        condition: { expression: '', title: '', description: '', location: '', ...seed.condition },
        exercisedPermissions: seed.exercisedPermissions.map((permission) => ({ permission })),
        inferredPermissions: (seed.inferredPermissions ?? []).map((permission) => ({ permission })),
        currentTotalPermissionsCount: String(seed.currentTotalPermissionsCount),
      },
      lastRefreshTime: (seed.lastRefreshTime ?? new Date()).toISOString(),
      observationPeriod: `${days * 86_400}s`,
      stateInfo: { state: numericEnums ? INSIGHT_STATES.indexOf(state) : state },
      category: numericEnums ? INSIGHT_CATEGORIES.indexOf('SECURITY') : 'SECURITY',
      targetResources: [`//cloudresourcemanager.googleapis.com/${apiName}`],
      insightSubtype: 'PERMISSIONS_USAGE',
      etag,
    };
  }
}
