import { randomUUID } from 'node:crypto';
import { AzureHttpClient } from './azure-http.client';
import { AzureHttpError } from './azure-http.error';
import { TICKET_SYSTEM, armRoleDefinitionId, nameBasedGuid, roleGuid } from './azure-ids';
import { sameTarget } from './azure-target';
import { ArmList, armUrl } from './arm-paths';
import { PimBackend, PimRef, PimRequestView, PimSubmit } from './pim.mechanism';
import { classifyPimStatus } from './pim-status';

interface ArmScheduleRequest {
  name: string;
  properties: {
    scope: string;
    roleDefinitionId: string;
    principalId: string;
    requestType: string;
    status: string;
    createdOn: string;
    ticketInfo?: { ticketNumber?: string | null; ticketSystem?: string | null } | null;
  };
}

interface ArmInstance {
  properties: { scope: string; roleDefinitionId: string; principalId: string; startDateTime: string; endDateTime: string | null };
}

type ResourceTarget = { kind: 'azure.resource-role'; scope: string; roleDefinitionId: string };

/** ARM PIM for Azure resource roles, api-version 2020-10-01 (cloud-apis.md A3). */
export class ArmPimBackend implements PimBackend {
  readonly name = 'ARM PIM (resource role)';

  constructor(
    private readonly http: AzureHttpClient,
    private readonly reconcileScopes: string[],
  ) {}

  /** The assign request's name: derived from the grant, so a retry after a crash finds it. */
  artifactName(grantId: string): string {
    return nameBasedGuid(`${grantId}/assign`);
  }

  async activeEnd(ref: PimRef, at: Date): Promise<{ start: Date; end: Date | null } | undefined> {
    const t = ref.target as ResourceTarget;
    const items = await this.all<ArmInstance>(armUrl(t.scope, 'roleAssignmentScheduleInstances', undefined, '', { $filter: `principalId eq '${ref.principalId}'` }));
    const now = at.getTime();
    const live = items
      .map((i) => i.properties)
      .filter((p) => sameScope(p.scope, t.scope) && roleGuid(p.roleDefinitionId) === roleGuid(t.roleDefinitionId))
      .filter((p) => Date.parse(p.startDateTime) <= now && (p.endDateTime === null || Date.parse(p.endDateTime) > now));
    if (!live.length) return undefined;
    const start = new Date(Math.min(...live.map((p) => Date.parse(p.startDateTime))));
    if (live.some((p) => p.endDateTime === null)) return { start, end: null };
    return { start, end: new Date(Math.max(...live.map((p) => Date.parse(p.endDateTime!)))) };
  }

  async submit(ref: PimRef, r: PimSubmit): Promise<PimRequestView> {
    const t = ref.target as ResourceTarget;
    const properties: Record<string, unknown> = {
      principalId: ref.principalId,
      roleDefinitionId: armRoleDefinitionId(t.roleDefinitionId, t.scope),
      requestType: r.action === 'assign' ? 'AdminAssign' : r.action === 'update' ? 'AdminUpdate' : 'AdminRemove',
      justification: r.justification,
      ticketInfo: { ticketNumber: r.grantId, ticketSystem: TICKET_SYSTEM },
    };
    if (r.window) {
      properties.scheduleInfo = { startDateTime: r.window.start.toISOString(), expiration: { type: 'AfterDuration', endDateTime: null, duration: r.window.duration } };
    }
    // Request names must be new GUIDs; only the assign is named after the grant.
    const name = r.action === 'assign' ? this.artifactName(r.grantId) : randomUUID();
    try {
      return this.view((await this.http.armCall<ArmScheduleRequest>('PUT', armUrl(t.scope, 'roleAssignmentScheduleRequests', name), { properties })).body);
    } catch (e) {
      if (!(e instanceof AzureHttpError && e.status === 409 && /already exists/i.test(e.message) && r.action === 'assign')) throw e;
      // The grant's assign request exists (a retry after a crash): use it while it can still
      // lead to access, else the schedule it made is gone and a new request is needed.
      const existing = await this.getRequest(ref, name);
      if (existing && classifyPimStatus(existing.status) === 'pending') return existing;
      return this.view((await this.http.armCall<ArmScheduleRequest>('PUT', armUrl(t.scope, 'roleAssignmentScheduleRequests', randomUUID()), { properties })).body);
    }
  }

  async getRequest(ref: PimRef, id: string): Promise<PimRequestView | undefined> {
    const t = ref.target as ResourceTarget;
    try {
      return this.view((await this.http.armCall<ArmScheduleRequest>('GET', armUrl(t.scope, 'roleAssignmentScheduleRequests', id))).body);
    } catch (e) {
      if (e instanceof AzureHttpError && e.status === 404) return undefined;
      throw e;
    }
  }

  async requestsOf(ref: PimRef, grantId: string): Promise<PimRequestView[]> {
    const t = ref.target as ResourceTarget;
    const items = await this.all<ArmScheduleRequest>(armUrl(t.scope, 'roleAssignmentScheduleRequests', undefined, '', { $filter: `principalId eq '${ref.principalId}'` }));
    return items
      .filter((r) => r.properties.ticketInfo?.ticketSystem === TICKET_SYSTEM && r.properties.ticketInfo.ticketNumber === grantId)
      .map((r) => this.view(r))
      .filter((v) => sameTarget(v.ref.target, ref.target))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async cancel(ref: PimRef, id: string): Promise<void> {
    await this.http.armCall('POST', armUrl((ref.target as ResourceTarget).scope, 'roleAssignmentScheduleRequests', id, '/cancel'));
  }

  async *brokerRequests(): AsyncIterable<PimRequestView> {
    for (const scope of this.reconcileScopes) {
      for (const r of await this.all<ArmScheduleRequest>(armUrl(scope, 'roleAssignmentScheduleRequests', undefined, '', { $filter: 'asRequestor()' }))) {
        if (r.properties.ticketInfo?.ticketSystem === TICKET_SYSTEM) yield this.view(r);
      }
    }
  }

  private async all<T>(first: string): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = first;
    while (next) {
      const { body }: { body: ArmList<T> } = await this.http.armCall<ArmList<T>>('GET', next);
      out.push(...body.value);
      next = body.nextLink;
    }
    return out;
  }

  private view(r: ArmScheduleRequest): PimRequestView {
    const p = r.properties;
    return {
      id: r.name,
      status: p.status,
      action: p.requestType,
      createdAt: p.createdOn,
      grantId: p.ticketInfo?.ticketSystem === TICKET_SYSTEM ? (p.ticketInfo.ticketNumber ?? null) : null,
      ref: { principalId: p.principalId.toLowerCase(), target: { kind: 'azure.resource-role', scope: p.scope, roleDefinitionId: roleGuid(p.roleDefinitionId) } },
    };
  }
}

function sameScope(a: string, b: string): boolean {
  return a.replace(/\/$/, '').toLowerCase() === b.replace(/\/$/, '').toLowerCase();
}
