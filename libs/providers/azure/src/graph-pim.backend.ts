import { AzureHttpClient } from './azure-http.client';
import { TICKET_SYSTEM } from './azure-ids';
import { AzureTargetOf } from './azure-kinds';
import { sameTarget } from './azure-target';
import { PimBackend, PimRef, PimRequestView, PimSubmit } from './pim.mechanism';

type GraphTarget = AzureTargetOf<'azure.directory-role' | 'azure.group-membership'>;

interface GraphRequest {
  id: string;
  status: string;
  action: string;
  createdDateTime: string;
  principalId: string;
  roleDefinitionId?: string;
  directoryScopeId?: string | null;
  groupId?: string;
  accessId?: string;
  ticketInfo?: { ticketNumber?: string | null; ticketSystem?: string | null } | null;
}

interface GraphPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

/** The two Graph PIM APIs differ only in paths and in the fields that name the target. */
const SURFACES = {
  'azure.directory-role': {
    name: 'Graph PIM (directory role)',
    requests: '/roleManagement/directory/roleAssignmentScheduleRequests',
    instances: '/roleManagement/directory/roleAssignmentScheduleInstances',
  },
  'azure.group-membership': {
    name: 'Graph PIM for Groups',
    requests: '/identityGovernance/privilegedAccess/group/assignmentScheduleRequests',
    instances: '/identityGovernance/privilegedAccess/group/assignmentScheduleInstances',
  },
} as const;

/** Microsoft Graph PIM for Entra directory roles or for groups (cloud-apis.md A1, A2). */
export class GraphPimBackend implements PimBackend {
  readonly name: string;
  private readonly paths: (typeof SURFACES)[keyof typeof SURFACES];

  constructor(
    private readonly http: AzureHttpClient,
    private readonly kind: GraphTarget['kind'],
  ) {
    this.paths = SURFACES[kind];
    this.name = this.paths.name;
  }

  artifactName(grantId: string): string {
    return `${TICKET_SYSTEM}/${grantId}`;
  }

  async activeEnd(ref: PimRef, at: Date): Promise<{ start: Date; end: Date | null } | undefined> {
    const filter = `principalId eq '${ref.principalId}' and ${this.targetFilter(ref.target as GraphTarget)}`;
    const items = await this.all<{ startDateTime: string; endDateTime: string | null }>(`${this.paths.instances}?$filter=${encodeURIComponent(filter)}`);
    const now = at.getTime();
    const live = items.filter((i) => Date.parse(i.startDateTime) <= now && (i.endDateTime === null || Date.parse(i.endDateTime) > now));
    if (!live.length) return undefined;
    const start = new Date(Math.min(...live.map((i) => Date.parse(i.startDateTime))));
    if (live.some((i) => i.endDateTime === null)) return { start, end: null };
    return { start, end: new Date(Math.max(...live.map((i) => Date.parse(i.endDateTime!)))) };
  }

  async submit(ref: PimRef, r: PimSubmit): Promise<PimRequestView> {
    const target = ref.target as GraphTarget;
    const body: Record<string, unknown> = {
      action: r.action === 'assign' ? 'adminAssign' : r.action === 'update' ? 'adminUpdate' : 'adminRemove',
      principalId: ref.principalId,
      ...this.targetFields(target),
      justification: r.justification,
      ticketInfo: { ticketNumber: r.grantId, ticketSystem: TICKET_SYSTEM },
    };
    if (r.window) {
      body.scheduleInfo = { startDateTime: r.window.start.toISOString(), expiration: { type: 'afterDuration', duration: r.window.duration } };
    }
    return this.view(await this.http.graphCall<GraphRequest>('POST', this.paths.requests, body));
  }

  async getRequest(_ref: PimRef, id: string): Promise<PimRequestView | undefined> {
    return this.view(await this.http.graphCall<GraphRequest>('GET', `${this.paths.requests}/${encodeURIComponent(id)}`));
  }

  async requestsOf(ref: PimRef, grantId: string): Promise<PimRequestView[]> {
    const filter = `principalId eq '${ref.principalId}'`;
    const items = await this.all<GraphRequest>(`${this.paths.requests}?$filter=${encodeURIComponent(filter)}`);
    return items
      .filter((r) => r.ticketInfo?.ticketSystem === TICKET_SYSTEM && r.ticketInfo.ticketNumber === grantId)
      .map((r) => this.view(r))
      .filter((v) => sameTarget(v.ref.target, ref.target))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async cancel(_ref: PimRef, id: string): Promise<void> {
    await this.http.graphCall('POST', `${this.paths.requests}/${encodeURIComponent(id)}/cancel`, {});
  }

  async *brokerRequests(): AsyncIterable<PimRequestView> {
    let next: string | undefined = this.paths.requests;
    while (next) {
      const page: GraphPage<GraphRequest> = await this.http.graphCall<GraphPage<GraphRequest>>('GET', next);
      for (const r of page.value) if (r.ticketInfo?.ticketSystem === TICKET_SYSTEM) yield this.view(r);
      next = page['@odata.nextLink'];
    }
  }

  private async all<T>(first: string): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = first;
    while (next) {
      const page: GraphPage<T> = await this.http.graphCall<GraphPage<T>>('GET', next);
      out.push(...page.value);
      next = page['@odata.nextLink'];
    }
    return out;
  }

  private targetFields(t: GraphTarget): Record<string, string> {
    return t.kind === 'azure.directory-role'
      ? { roleDefinitionId: t.roleDefinitionId, directoryScopeId: t.directoryScopeId ?? '/' }
      : { accessId: t.access, groupId: t.groupId };
  }

  private targetFilter(t: GraphTarget): string {
    return t.kind === 'azure.directory-role'
      ? `roleDefinitionId eq '${t.roleDefinitionId}' and directoryScopeId eq '${t.directoryScopeId ?? '/'}'`
      : `groupId eq '${t.groupId}' and accessId eq '${t.access}'`;
  }

  private view(r: GraphRequest): PimRequestView {
    const target: GraphTarget =
      this.kind === 'azure.directory-role'
        ? { kind: 'azure.directory-role', roleDefinitionId: String(r.roleDefinitionId).toLowerCase(), directoryScopeId: r.directoryScopeId ?? '/' }
        : { kind: 'azure.group-membership', groupId: String(r.groupId).toLowerCase(), access: r.accessId === 'owner' ? 'owner' : 'member' };
    return {
      id: r.id,
      status: r.status,
      action: r.action,
      createdAt: r.createdDateTime,
      grantId: r.ticketInfo?.ticketSystem === TICKET_SYSTEM ? (r.ticketInfo.ticketNumber ?? null) : null,
      ref: { principalId: r.principalId.toLowerCase(), target },
    };
  }
}
