import type { RecommenderClient } from '@google-cloud/recommender/build/src/v1/recommender_client';
import { GcpProviderOptions } from './gcp-provider.options';
import { classifyGoogleError, googleClientOptions, withDeadline } from './resource-manager.gateway';

/**
 * The IAM recommender's policy insights (Recommender v1, insight type `google.iam.policy.Insight`,
 * location `global`): per role binding, the permissions its member exercised in the observation
 * period. Read for discovery only, so the client (and its protos) is loaded on first use.
 */
export const IAM_POLICY_INSIGHT_TYPE = 'google.iam.policy.Insight';
/**
 * ACTIVE and DISMISSED insights: Google keeps their content current. ACCEPTED ones are frozen
 * at the time someone acted on them, so they may describe a binding that has changed since.
 */
export const CURRENT_INSIGHTS_FILTER = 'stateInfo.state = ACTIVE OR stateInfo.state = DISMISSED';

/** One policy insight, read out of the proto Struct the client hands back. */
export interface PolicyInsight {
  member: string;
  role: string;
  /** The binding's condition expression, empty for an unconditional binding. */
  conditionExpression: string;
  exercised: string[];
  inferred: string[];
  /** How many permissions the role grants (`currentTotalPermissionsCount`), when reported. */
  totalPermissions: number | null;
  observationDays: number;
  lastRefreshTime: Date | null;
}

export interface InsightPage {
  insights: PolicyInsight[];
  nextPageToken: string | null;
}

type ProtoValue = {
  nullValue?: unknown;
  numberValue?: number | null;
  stringValue?: string | null;
  boolValue?: boolean | null;
  structValue?: { fields?: Record<string, ProtoValue> | null } | null;
  listValue?: { values?: ProtoValue[] | null } | null;
};

/** google.protobuf.Value as the client decodes it, back to plain JSON. */
function plain(value: ProtoValue | undefined | null): unknown {
  if (!value) return null;
  if (value.structValue) return plainStruct(value.structValue);
  if (value.listValue) return (value.listValue.values ?? []).map(plain);
  if (value.stringValue !== undefined && value.stringValue !== null) return value.stringValue;
  if (value.numberValue !== undefined && value.numberValue !== null) return value.numberValue;
  if (value.boolValue !== undefined && value.boolValue !== null) return value.boolValue;
  return null;
}

function plainStruct(struct: { fields?: Record<string, ProtoValue> | null } | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(struct?.fields ?? {}).map(([k, v]) => [k, plain(v)]));
}

const permissions = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((p) => (p as { permission?: unknown })?.permission).filter((p): p is string => typeof p === 'string') : [];

const seconds = (value: { seconds?: unknown } | null | undefined): number | null => {
  const s = Number(value?.seconds ?? Number.NaN);
  return Number.isFinite(s) ? s : null;
};

/** Reads an insight's content; null when it is not a policy insight about one member and role. */
export function readPolicyInsight(insight: {
  content?: { fields?: Record<string, ProtoValue> | null } | null;
  observationPeriod?: { seconds?: unknown } | null;
  lastRefreshTime?: { seconds?: unknown } | null;
}): PolicyInsight | null {
  const content = plainStruct(insight.content);
  if (typeof content.member !== 'string' || typeof content.role !== 'string') return null;
  const condition = content.condition as { expression?: unknown } | null | undefined;
  const total = Number(content.currentTotalPermissionsCount);
  const period = seconds(insight.observationPeriod);
  const refreshed = seconds(insight.lastRefreshTime);
  return {
    member: content.member,
    role: content.role,
    conditionExpression: typeof condition?.expression === 'string' ? condition.expression : '',
    exercised: permissions(content.exercisedPermissions),
    inferred: permissions(content.inferredPermissions),
    totalPermissions: Number.isFinite(total) && content.currentTotalPermissionsCount !== null ? total : null,
    // Google observes 90 days when the period is not given.
    observationDays: period === null ? 90 : Math.round(period / 86_400),
    lastRefreshTime: refreshed === null ? null : new Date(refreshed * 1000),
  };
}

export class PolicyInsightsGateway {
  private client?: Promise<RecommenderClient>;
  private readonly timeoutMs: number;

  constructor(private readonly options: GcpProviderOptions) {
    this.timeoutMs = options.callTimeoutMs ?? 30_000;
  }

  /** One page of the current policy insights on a project, folder or organization. */
  async list(resource: string, pageToken: string | undefined, pageSize: number, signal?: AbortSignal): Promise<InsightPage> {
    const request = {
      parent: `${resource}/locations/global/insightTypes/${IAM_POLICY_INSIGHT_TYPE}`,
      filter: CURRENT_INSIGHTS_FILTER,
      pageSize,
      ...(pageToken && { pageToken }),
    };
    try {
      const client = await this.recommender();
      const [insights, , response] = await withDeadline(this.timeoutMs, () => client.listInsights(request, { retry: null, autoPaginate: false }), signal);
      return {
        insights: insights.map((i) => readPolicyInsight(i as Parameters<typeof readPolicyInsight>[0])).filter((i): i is PolicyInsight => i !== null),
        nextPageToken: response?.nextPageToken || null,
      };
    } catch (e) {
      throw classifyGoogleError(e);
    }
  }

  async close(): Promise<void> {
    if (this.client) await (await this.client).close();
  }

  private recommender(): Promise<RecommenderClient> {
    this.client ??= import('@google-cloud/recommender/build/src/v1/recommender_client').then((m) => new m.RecommenderClient(googleClientOptions(this.options)));
    return this.client;
  }
}
