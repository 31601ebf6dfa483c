import { randomBytes, randomUUID } from 'node:crypto';
import { LoopbackServer, RequestLog, startLoopbackServer } from '@jit/sim-kit';
import { armPimRoutes } from './arm-pim.routes';
import { armRoleAssignmentRoutes } from './arm-role-assignments.routes';
import { armRoleDiscoveryRoutes } from './arm-role-discovery.routes';
import { covers, idPrefix, normalScope } from './arm-scope';
import { AUDIENCES, authenticate, entraRoutes } from './entra-token.routes';
import { graphAppRoleRoutes } from './graph-app-roles.routes';
import { graphDirectoryObjectRoutes } from './graph-directory-objects.routes';
import { graphDirectoryRoleRoutes } from './graph-directory-roles.routes';
import { graphPimRoutes } from './graph-pim.routes';
import { graphUserRoutes } from './graph-users.routes';
import { PimEngineOptions, PimSchedule, PimScheduleEngine, isActive } from './pim-schedule.engine';
import { SimContext, SimRoute } from './sim-context';
import { SimFaultPlan, SimFaults } from './sim-faults';
import { SimHttpError, SimRequest, SimResponse, armError, graphError, readRequest, writeResponse } from './sim-http';
import { SimDirectory, SimRolePolicy, SimSeed, SimSignInActivity } from './sim-state';
import { generateSimulatorCertificate } from './tls-certificate';

/** What `holds` asks about, one shape per Azure target kind. */
export type HoldsQuery =
  | { kind: 'directory-role'; roleDefinitionId: string; directoryScopeId?: string }
  | { kind: 'resource-role'; roleDefinitionId: string; scope: string }
  | { kind: 'group-membership'; groupId: string; access: 'member' | 'owner' }
  | { kind: 'app-role'; resourceServicePrincipalId: string; appRoleId: string };

/** One Graph or ARM call as the simulator received it, for wire checks in tests. */
export interface RecordedCall {
  api: 'graph' | 'arm';
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
}

/**
 * Entra ID token endpoint, Microsoft Graph (PIM, PIM for Groups, app role assignments) and
 * ARM (PIM and role assignments) on 127.0.0.1 over HTTPS, with a certificate made at start.
 */
export class AzureSimulator {
  private readonly log = new RequestLog<RecordedCall>();
  private readonly ctx: SimContext;

  private constructor(
    private readonly server: LoopbackServer,
    readonly url: string,
    readonly caCertPem: string,
    readonly tenantId: string,
    pimOptions: PimEngineOptions,
  ) {
    this.ctx = {
      baseUrl: url,
      tenantId,
      directory: new SimDirectory(),
      pim: new PimScheduleEngine(pimOptions),
      faults: new SimFaultPlan(),
      roleAssignments: new Map(),
      appRoleAssignments: new Map(),
      directoryRoleAssignments: new Map(),
      eligibilities: new Map(),
      servicePrincipalTags: new Map(),
    };
  }

  /** `pimRemovalWindowMs`: PIM's five minutes unless a test that is not about that rule shortens it. */
  static async start(options: { port?: number; tenantId?: string; pimRemovalWindowMs?: number } = {}): Promise<AzureSimulator> {
    const tls = await generateSimulatorCertificate();
    let sim: AzureSimulator | undefined;
    const server = await startLoopbackServer(
      { name: 'Azure', hosts: ['127.0.0.1'], port: options.port, tls },
      () => (req, res) =>
        readRequest(req)
          .then((r) => sim!.handle(r))
          .then((out) => writeResponse(res, out))
          .catch((e: unknown) => writeResponse(res, { status: 500, body: { error: { code: 'InternalServerError', message: String(e) } } })),
    );
    sim = new AzureSimulator(server, `https://127.0.0.1:${server.port}`, tls.certPem, (options.tenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47').toLowerCase(), {
      removalWindowMs: options.pimRemovalWindowMs,
    });
    return sim;
  }

  seed(seed: SimSeed): this {
    this.ctx.directory.seed(seed);
    return this;
  }

  /** Changes a role's PIM policy: directory role id, Azure role GUID, or `groupId/access`. */
  setPolicy(kind: 'directory-role' | 'resource-role' | 'group-membership', key: string, policy: SimRolePolicy): void {
    const d = this.ctx.directory;
    if (kind === 'group-membership') d.groupPolicies.set(key.toLowerCase(), policy);
    else {
      const role = (kind === 'directory-role' ? d.directoryRoles : d.azureRoles).get(key.toLowerCase());
      if (!role) throw new Error(`unknown role ${key}`);
      role.policy = policy;
    }
  }

  inject(faults: SimFaults): void {
    this.ctx.faults.apply(faults);
  }

  /** An approver's decision on a request in PendingApproval (Graph request id or ARM request name). */
  decide(requestId: string, decision: 'approve' | 'deny'): void {
    this.ctx.pim.decide(requestId.toLowerCase(), decision === 'approve');
  }

  /** Requests waiting for approval, for tests that play the approver. */
  pendingApprovals(): { id: string; principalId: string }[] {
    return [...this.ctx.pim.requests.values()].filter((r) => r.status === 'PendingApproval').map((r) => ({ id: r.id, principalId: r.principalId }));
  }

  /** Does the directory or ARM, by its own evaluation, give `principalId` this access at `at`? */
  holds(principalId: string, q: HoldsQuery, at: Date = new Date()): boolean {
    const p = principalId.toLowerCase();
    const pim = (surface: 'directory' | 'group' | 'arm', match: (key: string) => boolean) =>
      this.ctx.pim.schedulesOf(surface).some((s) => s.principalId === p && match(s.targetKey) && isActive(s, at));
    switch (q.kind) {
      case 'directory-role':
        return (
          pim('directory', (k) => k === `${q.roleDefinitionId}|${q.directoryScopeId ?? '/'}`.toLowerCase()) ||
          [...this.ctx.directoryRoleAssignments.values()].some(
            (a) => a.principalId === p && a.roleDefinitionId === q.roleDefinitionId.toLowerCase() && a.directoryScopeId === (q.directoryScopeId ?? '/'),
          )
        );
      case 'group-membership':
        return pim('group', (k) => k === `${q.groupId}|${q.access}`.toLowerCase());
      case 'resource-role': {
        const role = q.roleDefinitionId.split('/').pop()!.toLowerCase();
        const viaPim = pim('arm', (k) => k.split('|')[0] === role && covers(this.ctx, k.split('|')[1], q.scope));
        const viaRbac = [...this.ctx.roleAssignments.values()].some((a) => a.principalId === p && a.roleGuid === role && covers(this.ctx, a.scope, q.scope));
        return viaPim || viaRbac;
      }
      case 'app-role':
        return [...this.ctx.appRoleAssignments.values()].some(
          (a) => a.principalId === p && a.resourceId === q.resourceServicePrincipalId.toLowerCase() && a.appRoleId === q.appRoleId.toLowerCase(),
        );
    }
  }

  /**
   * The PIM schedules PIM stored for this principal and target (start, end, when made), as
   * the simulator holds them: for tests that compare cloud-side deadlines with `expiresAt`.
   */
  pimSchedules(principalId: string, q: Exclude<HoldsQuery, { kind: 'app-role' }>): Pick<PimSchedule, 'start' | 'end' | 'createdAt'>[] {
    const p = principalId.toLowerCase();
    const [surface, match] =
      q.kind === 'directory-role'
        ? (['directory', (k: string) => k === `${q.roleDefinitionId}|${q.directoryScopeId ?? '/'}`.toLowerCase()] as const)
        : q.kind === 'group-membership'
          ? (['group', (k: string) => k === `${q.groupId}|${q.access}`.toLowerCase()] as const)
          : (['arm', (k: string) => k.split('|')[0] === q.roleDefinitionId.split('/').pop()!.toLowerCase() && covers(this.ctx, k.split('|')[1], q.scope)] as const);
    return this.ctx.pim
      .schedulesOf(surface)
      .filter((s) => s.principalId === p && match(s.targetKey))
      .map((s) => ({ start: s.start, end: s.end, createdAt: s.createdAt }));
  }

  /**
   * A role assignment an admin made outside the broker (standing access), as ARM would store it;
   * `name` defaults to a new GUID. Returns the assignment's id.
   */
  seedRoleAssignment(a: { scope: string; roleDefinitionId: string; principalId: string; name?: string; description?: string; createdOn?: Date }): string {
    const scope = normalScope(a.scope);
    const guid = a.roleDefinitionId.split('/').pop()!.toLowerCase();
    if (!this.ctx.directory.azureRoles.has(guid)) throw new Error(`unknown Azure role ${a.roleDefinitionId}`);
    const principal = this.requireSeeded(a.principalId);
    const name = (a.name ?? randomUUID()).toLowerCase();
    const sub = /^\/subscriptions\/[^/]+/.exec(scope)?.[0] ?? '';
    const at = (a.createdOn ?? new Date()).toISOString();
    this.ctx.roleAssignments.set(`${scope}|${name}`, {
      name,
      scope,
      roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
      roleGuid: guid,
      principalId: principal.id,
      principalType: principal.type,
      description: a.description ?? null,
      condition: null,
      conditionVersion: null,
      createdOn: at,
      updatedOn: at,
      createdBy: 'a0a0a0a0-0000-4000-8000-0000000000ad',
    });
    return `${idPrefix(scope)}/providers/Microsoft.Authorization/roleAssignments/${name}`;
  }

  /** A permanent Entra directory role assignment made outside PIM. Returns its Graph id. */
  seedDirectoryRoleAssignment(a: { roleDefinitionId: string; principalId: string; directoryScopeId?: string; appScopeId?: string }): string {
    const roleDefinitionId = a.roleDefinitionId.toLowerCase();
    if (!this.ctx.directory.directoryRoles.has(roleDefinitionId)) throw new Error(`unknown directory role ${a.roleDefinitionId}`);
    const id = randomBytes(32).toString('base64url').slice(0, 43);
    this.ctx.directoryRoleAssignments.set(id, { id, principalId: this.requireSeeded(a.principalId).id, roleDefinitionId, directoryScopeId: a.appScopeId ? (a.directoryScopeId ?? null) : (a.directoryScopeId ?? '/'), appScopeId: a.appScopeId ?? null });
    return id;
  }

  /** A PIM eligibility on an Azure scope (`arm`) or an Entra role (`directory`, `scope` is the directoryScopeId); no end: permanent. */
  seedEligibility(e: { surface: 'arm' | 'directory'; scope: string; roleDefinitionId: string; principalId: string; start?: Date; end?: Date | null }): string {
    const id = randomUUID();
    const now = new Date();
    this.ctx.eligibilities.set(id, {
      id,
      surface: e.surface,
      roleId: e.roleDefinitionId.split('/').pop()!.toLowerCase(),
      scope: e.surface === 'arm' ? normalScope(e.scope) : e.scope,
      principalId: this.requireSeeded(e.principalId).id,
      start: e.start ?? now,
      end: e.end ?? null,
      createdAt: now,
    });
    return id;
  }

  /**
   * A PIM active assignment made outside the broker: `Activated` (a member activated an
   * eligibility; it ends) or `Assigned` (an admin's active assignment, permanent when `end` is null).
   */
  seedPimAssignment(a: { surface: 'arm' | 'directory'; scope: string; roleDefinitionId: string; principalId: string; assignmentType: 'Activated' | 'Assigned'; end: Date | null; condition?: string; conditionVersion?: string }): string {
    const id = randomUUID();
    const role = a.roleDefinitionId.split('/').pop()!.toLowerCase();
    const scope = a.surface === 'arm' ? normalScope(a.scope) : a.scope;
    this.ctx.pim.seed({ id, surface: a.surface, targetKey: `${role}|${scope}`, principalId: this.requireSeeded(a.principalId).id, start: new Date(), end: a.end, createdAt: new Date(), assignmentType: a.assignmentType, condition: a.condition ?? null, conditionVersion: a.condition ? (a.conditionVersion ?? '2.0') : null });
    return id;
  }

  /** The broker's identity may not read this Azure role definition (a custom role defined where it has no read): ARM answers 403. */
  denyRoleDefinitionRead(roleDefinitionId: string): void {
    this.ctx.directory.unreadableAzureRoles.add(roleDefinitionId.split('/').pop()!.toLowerCase());
  }

  /** What Graph reports as a user's `signInActivity` (null: no sign-in recorded). */
  setSignInActivity(userId: string, activity: SimSignInActivity | null): void {
    const user = this.ctx.directory.users.get(userId.toLowerCase());
    if (!user) throw new Error(`unknown user ${userId}`);
    user.signInActivity = activity;
  }

  private requireSeeded(id: string) {
    const principal = this.ctx.directory.principal(id);
    if (!principal) throw new Error(`unknown principal ${id}: seed it first`);
    return principal;
  }

  /** Tags on a service principal (the broker's ledger for app role grants). */
  tagsOf(servicePrincipalId: string): string[] {
    return this.ctx.servicePrincipalTags.get(servicePrincipalId.toLowerCase()) ?? [];
  }

  /** Every Graph and ARM call received, oldest first (token requests are not recorded). */
  get calls(): RecordedCall[] {
    return this.log.entries;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(req: SimRequest): Promise<SimResponse> {
    const token = entraRoutes(req, this.ctx);
    if (token) return token;
    const api = req.path.startsWith('/v1.0/') ? 'graph' : 'arm';
    const out = await this.handleApi(req, api);
    this.log.record({ api, method: req.method, path: req.path, query: Object.fromEntries(req.query), body: req.body, status: out.status });
    return out;
  }

  private async handleApi(req: SimRequest, api: 'graph' | 'arm'): Promise<SimResponse> {
    const routes: SimRoute[] =
      api === 'graph'
        ? [graphPimRoutes, graphAppRoleRoutes, graphDirectoryObjectRoutes, graphDirectoryRoleRoutes, graphUserRoutes]
        : [armRoleDiscoveryRoutes, armPimRoutes, armRoleAssignmentRoutes];
    try {
      const f = this.ctx.faults;
      await f.delay();
      const caller = authenticate(req, this.ctx, api === 'graph' ? AUDIENCES.graph : AUDIENCES.arm);
      const fault = f.take();
      if (fault === 'throttle') {
        throw new SimHttpError(429, api === 'graph' ? 'TooManyRequests' : 'TooManyRequests', 'Too many requests, retry after the interval in Retry-After.', f.throttleHeaders());
      }
      if (fault === 'server-error') throw new SimHttpError(503, api === 'graph' ? 'serviceNotAvailable' : 'ServiceUnavailable', 'The service is temporarily unavailable.');
      if (!caller.authorized) {
        throw api === 'graph'
          ? new SimHttpError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')
          : new SimHttpError(403, 'AuthorizationFailed', `The client '${caller.appId}' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write' over scope '${req.path}' or the scope is invalid.`);
      }
      for (const route of routes) {
        const out = route(req, this.ctx, caller);
        if (out) return out;
      }
      throw api === 'graph'
        ? new SimHttpError(400, 'BadRequest', `Resource not found for the segment '${req.path.split('/').pop()}'.`)
        : new SimHttpError(404, 'NoRegisteredProviderFound', `No registered resource provider found for path '${req.path}'.`);
    } catch (e) {
      if (!(e instanceof SimHttpError)) throw e;
      return api === 'graph' ? graphError(e, req) : armError(e);
    }
  }
}
