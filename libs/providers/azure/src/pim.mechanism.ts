import { setTimeout as sleep } from 'node:timers/promises';
import { GrantSpec, OwnedArtifact, ProviderError, ProvisionOutcome, ProvisionStatus, Target } from '@jit/domain';
import { AzureCallPolicy, toProviderError } from './azure-call.policy';
import { AzureHttpError } from './azure-http.error';
import { scheduleWindow } from './azure-ids';
import { AzureMechanism } from './azure-mechanism';
import { awaitsHuman, classifyPimStatus, failureReason } from './pim-status';
import { ACTIVE_DURATION_TOO_SHORT, PIM_MINIMUM_MS, PIM_REMOVAL_MARGIN_MS, PIM_REMOVAL_WINDOW_MS } from './pim-rules';

/** A principal and a PIM target: the key of PIM's single schedule. */
export interface PimRef {
  principalId: string;
  target: Target;
}

export interface PimRequestView {
  id: string;
  status: string;
  /** adminAssign / AdminAssign etc., as the API spells it. */
  action: string;
  createdAt: string;
  grantId: string | null;
  ref: PimRef;
}

export interface PimSubmit {
  action: 'assign' | 'update' | 'remove';
  window?: { start: Date; duration: string };
  /** The grant the request is recorded under (ticketInfo), for status and reconciliation. */
  grantId: string;
  justification: string;
}

/** The API-specific half of PIM: Graph directory roles, Graph PIM for Groups, or ARM. */
export interface PimBackend {
  readonly name: string;
  /** The assignment live at `now` (the adapter's clock): its earliest start (when it was made, to the second) and latest end. */
  activeEnd(ref: PimRef, now: Date): Promise<{ start: Date; end: Date | null } | undefined>;
  submit(ref: PimRef, request: PimSubmit): Promise<PimRequestView>;
  getRequest(ref: PimRef, id: string): Promise<PimRequestView | undefined>;
  /** Requests recorded under this grant, newest first. */
  requestsOf(ref: PimRef, grantId: string): Promise<PimRequestView[]>;
  cancel(ref: PimRef, id: string): Promise<void>;
  /** Every request the broker made (its ticket system), for reconciliation. */
  brokerRequests(): AsyncIterable<PimRequestView>;
  artifactName(grantId: string): string;
}

/** Slack when comparing a schedule's end with a grant's: PIM ends are whole seconds. */
const END_TOLERANCE_MS = 1_000;

/**
 * PIM keeps one schedule per principal, role and scope. Overlapping grants share it: its end
 * is the latest end among the live grants, and a revoke shortens it to the survivors' latest
 * end instead of removing it (design.md section 4).
 */
export class PimMechanism implements AzureMechanism {
  constructor(
    private readonly backend: PimBackend,
    private readonly calls: AzureCallPolicy,
  ) {}

  async grant(spec: GrantSpec, overlapping: GrantSpec[]): Promise<ProvisionOutcome> {
    const ref = refOf(spec);
    const needEnd = latestEnd([spec, ...others(spec, overlapping)]);
    const active = await this.call('read the active assignment', () => this.backend.activeEnd(ref, this.calls.now()));
    if (active && covers(active.end, needEnd)) return this.outcome('active', spec);
    const [own] = await this.call('read the grant\'s PIM requests', () => this.backend.requestsOf(ref, spec.grantId));
    if (own && classifyPimStatus(own.status) === 'pending') return this.settle(ref, own, spec);
    const submit = (update: boolean) =>
      this.call(`${update ? 'extend' : 'create'} the PIM assignment`, () =>
        this.backend.submit(ref, { action: update ? 'update' : 'assign', window: scheduleWindow(spec.startsAt, needEnd, this.calls.now(), PIM_MINIMUM_MS), grantId: spec.grantId, justification: justification(spec) }),
        true,
      );
    let request: PimRequestView;
    try {
      request = await submit(active !== undefined);
    } catch (e) {
      // Another writer created the schedule between our read and our request: extend it instead.
      const code = e instanceof ProviderError ? e.options.code : undefined;
      if (code !== 'RoleAssignmentExists') throw e;
      const now = await this.call('read the active assignment', () => this.backend.activeEnd(ref, this.calls.now()));
      if (now && covers(now.end, needEnd)) return this.outcome('active', spec);
      request = await submit(true);
    }
    return this.settle(ref, request, spec);
  }

  async revoke(spec: GrantSpec, overlapping: GrantSpec[]): Promise<void> {
    const ref = refOf(spec);
    const now = this.calls.now().getTime();
    const survivors = others(spec, overlapping).filter((g) => g.expiresAt.getTime() > now);
    for (const request of await this.call('read the grant\'s PIM requests', () => this.backend.requestsOf(ref, spec.grantId))) {
      if (classifyPimStatus(request.status) === 'pending') await this.cancelQuietly(ref, request.id);
    }
    const active = await this.call('read the active assignment', () => this.backend.activeEnd(ref, this.calls.now()));
    if (!active) return;
    if (survivors.length) {
      const keeper = survivors.reduce((a, b) => (b.expiresAt > a.expiresAt ? b : a));
      const left = keeper.expiresAt.getTime() - now;
      if (left < PIM_MINIMUM_MS) {
        // PIM cannot shorten a schedule to under five minutes; once the keeper has ended too, the retry removes it.
        throw new ProviderError('transient', `${this.backend.name}: PIM cannot shorten the assignment to the overlapping grant ${keeper.grantId}'s last ${Math.ceil(left / 1000)} s (five-minute minimum); retrying when it ends`, {
          code: ACTIVE_DURATION_TOO_SHORT,
          retryAfterMs: Math.max(0, left) + 1_000,
        });
      }
      // Shorten to what the survivors still need, and record the schedule under the keeper so
      // reconciliation attributes it to a live grant.
      try {
        await this.call('shorten the PIM assignment to the overlapping grants', () =>
          this.backend.submit(ref, { action: 'update', window: scheduleWindow(keeper.startsAt, keeper.expiresAt, this.calls.now(), PIM_MINIMUM_MS), grantId: keeper.grantId, justification: justification(keeper) }),
        );
      } catch (e) {
        // A five-minute refusal during a revoke is about timing (clock skew at the minimum, or PIM
        // not changing an assignment it has just made), never a reason to give up: retry at the
        // earlier of the keeper's end (then the schedule is removed) and the end of the window.
        if (!(e instanceof ProviderError && e.options.code === ACTIVE_DURATION_TOO_SHORT && e.options.cause instanceof AzureHttpError)) throw e;
        const windowEnds = this.tooSoonToRemove(active, e.options.cause).options.retryAfterMs!;
        const retryAfterMs = Math.min(windowEnds, Math.max(0, keeper.expiresAt.getTime() - now) + 1_000);
        throw new ProviderError(
          'transient',
          `${this.backend.name}: PIM refused to shorten the assignment to the overlapping grant ${keeper.grantId} (${ACTIVE_DURATION_TOO_SHORT}: ${e.options.cause.message}); ` +
            `retrying at ${new Date(now + retryAfterMs).toISOString()}`,
          { code: ACTIVE_DURATION_TOO_SHORT, retryAfterMs, cause: e },
        );
      }
      return;
    }
    await this.remove(ref, spec.grantId, justification(spec, 'revoked'), active);
  }

  async status(spec: GrantSpec): Promise<ProvisionStatus> {
    const ref = refOf(spec);
    const active = await this.call('read the active assignment', () => this.backend.activeEnd(ref, this.calls.now()));
    if (active) return { status: 'active' };
    const [own] = await this.call('read the grant\'s PIM requests', () => this.backend.requestsOf(ref, spec.grantId));
    if (!own) return { status: 'absent' };
    const outcome = classifyPimStatus(own.status);
    if (outcome === 'pending') return { status: 'pending', providerRef: { requestId: own.id, requestStatus: own.status } };
    if (outcome === 'failed') return { status: 'failed', reason: failureReason(own.status) };
    if (outcome === 'active' && (spec.startsAt.getTime() > this.calls.now().getTime())) return { status: 'pending', providerRef: { requestId: own.id } };
    return { status: 'absent' };
  }

  async *listOwned(): AsyncIterable<OwnedArtifact> {
    // The newest assign/update request per schedule names the grant that owns it.
    const latest = new Map<string, PimRequestView>();
    for await (const r of this.backend.brokerRequests()) {
      if (!r.grantId || /remove/i.test(r.action) || classifyPimStatus(r.status) !== 'active') continue;
      const key = JSON.stringify([r.ref.principalId.toLowerCase(), r.ref.target]).toLowerCase();
      const seen = latest.get(key);
      if (!seen || seen.createdAt < r.createdAt) latest.set(key, r);
    }
    for (const r of latest.values()) {
      const active = await this.call('read the active assignment', () => this.backend.activeEnd(r.ref, this.calls.now()));
      if (!active) continue;
      yield {
        grantId: r.grantId,
        artifactName: this.backend.artifactName(r.grantId!),
        locator: { principalId: r.ref.principalId, target: r.ref.target },
        description: `${this.backend.name} active assignment of ${r.ref.principalId} (request ${r.id})`,
      };
    }
  }

  async removeOrphan(artifact: OwnedArtifact): Promise<void> {
    const ref = artifact.locator as unknown as PimRef;
    const active = await this.call('read the active assignment', () => this.backend.activeEnd(ref, this.calls.now()));
    if (!active) return;
    await this.remove(ref, artifact.grantId ?? 'orphan', `JIT broker reconciliation: no live grant owns this assignment`, active);
  }

  private async remove(ref: PimRef, grantId: string, text: string, active: { start: Date; end: Date | null }): Promise<void> {
    try {
      await this.calls.run(`${this.backend.name}: remove`, () => this.backend.submit(ref, { action: 'remove', grantId, justification: text }), { namesPrincipal: false });
    } catch (e) {
      // Gone already (expired or removed by someone else): that is the goal.
      if (e instanceof AzureHttpError && (e.code === 'RoleAssignmentDoesNotExist' || e.status === 404 || e.principalNotFound)) return;
      if (e instanceof AzureHttpError && e.code === ACTIVE_DURATION_TOO_SHORT) throw this.tooSoonToRemove(active, e);
      throw toProviderError(e, `${this.backend.name}: remove the PIM assignment`);
    }
  }

  /**
   * PIM refuses to remove an assignment within five minutes of making it: a retry at its start
   * plus five minutes (and a margin), while the schedule's own end still bounds the access.
   */
  private tooSoonToRemove(active: { start: Date; end: Date | null }, cause: AzureHttpError): ProviderError {
    const fromStart = active.start.getTime() + PIM_REMOVAL_WINDOW_MS + PIM_REMOVAL_MARGIN_MS;
    // Past already: PIM made the assignment later than its start (an approval, a slow provisioning),
    // at a time we cannot read; a whole window from now is the bound that cannot burn the attempts.
    const now = this.calls.now().getTime();
    const retryAt = new Date(fromStart > now ? fromStart : now + PIM_REMOVAL_WINDOW_MS);
    const until = active.end ? `; until then the schedule still ends at ${active.end.toISOString()}` : '';
    return new ProviderError(
      'transient',
      `${this.backend.name}: PIM does not remove an assignment within five minutes of making it (${cause.code}); retrying at ${retryAt.toISOString()}${until}`,
      { code: cause.code, retryAfterMs: Math.max(1_000, retryAt.getTime() - now), cause },
    );
  }

  private async cancelQuietly(ref: PimRef, id: string): Promise<void> {
    try {
      await this.calls.run(`${this.backend.name}: cancel`, () => this.backend.cancel(ref, id));
    } catch (e) {
      if (e instanceof AzureHttpError && !e.retryable) return; // settled meanwhile
      throw toProviderError(e, `${this.backend.name}: cancel the pending PIM request`);
    }
  }

  /** Polls a request until it settles or `settleWaitMs` passes; a human approval is not waited for. */
  private async settle(ref: PimRef, request: PimRequestView, spec: GrantSpec): Promise<ProvisionOutcome> {
    // The settle budget counts the polls' pauses, so it holds whatever the clock says.
    let waited = 0;
    let current = request;
    while (classifyPimStatus(current.status) === 'pending' && !awaitsHuman(current.status) && waited < this.calls.retry.settleWaitMs) {
      await sleep(this.calls.retry.pollIntervalMs, undefined, { signal: this.calls.signal });
      waited += this.calls.retry.pollIntervalMs;
      current = (await this.call('poll the PIM request', () => this.backend.getRequest(ref, current.id))) ?? current;
    }
    const outcome = classifyPimStatus(current.status);
    if (outcome === 'failed' || outcome === 'revoked') {
      throw new ProviderError('terminal', `${this.backend.name}: ${failureReason(current.status)}`, { code: current.status });
    }
    return this.outcome(outcome === 'active' ? 'active' : 'pending', spec, current);
  }

  private outcome(status: 'active' | 'pending', spec: GrantSpec, request?: PimRequestView): ProvisionOutcome {
    return {
      status,
      providerRef: { mechanism: this.backend.name, ...(request ? { requestId: request.id, requestStatus: request.status } : {}), artifactName: spec.artifactName },
    };
  }

  private async call<T>(what: string, fn: () => Promise<T>, namesPrincipal = false): Promise<T> {
    try {
      return await this.calls.run(`${this.backend.name}: ${what}`, fn, { namesPrincipal });
    } catch (e) {
      throw toProviderError(e, `${this.backend.name}: ${what}`);
    }
  }
}

function refOf(spec: GrantSpec): PimRef {
  return { principalId: spec.principal.id.toLowerCase(), target: spec.target };
}

function others(spec: GrantSpec, overlapping: GrantSpec[]): GrantSpec[] {
  return overlapping.filter((g) => g.grantId !== spec.grantId);
}

function latestEnd(grants: GrantSpec[]): Date {
  return new Date(Math.max(...grants.map((g) => g.expiresAt.getTime())));
}

function covers(end: Date | null, needed: Date): boolean {
  return end === null || end.getTime() >= needed.getTime() - END_TOLERANCE_MS;
}

function justification(spec: GrantSpec, verb = 'granted'): string {
  const why = spec.justification ? `: ${spec.justification}` : '';
  return `JIT grant ${spec.grantId} ${verb} for ${spec.requestedBy}${why}`.slice(0, 500);
}
