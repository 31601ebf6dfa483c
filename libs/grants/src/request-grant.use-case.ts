import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import { AuditTrail } from '@jit/audit';
import {
  AuditEventInput,
  CloudAccessProvider,
  DomainError,
  DurationBounds,
  Grant,
  GrantDecision,
  GrantRequest,
  GrantSpec,
  Principal,
  ProviderError,
  Target,
  parseGrantRequest,
} from '@jit/domain';
import { PolicyDecision, PolicySource } from '@jit/policy';
import { Actor, requireRole } from './actor';
import { GrantLifecycle, REQUEST_GRANT_ATTEMPTS, providerErrorToDomain } from './grant-lifecycle';

export interface RequestGrantResult {
  grant: Grant;
  /** Vended once, with the response that created the grant; never stored. */
  credentials?: Record<string, string>;
  /** True when an earlier request with the same Idempotency-Key is answered again. */
  replayed: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The access rules' verdict as the API reports it in a 403 and the audit log records it. */
export function denialOf(d: Extract<PolicyDecision, { effect: 'deny' }>): DomainError {
  return new DomainError('policy_denied', d.reason, d.violations, {
    decision: { effect: 'deny', rule: d.rule, code: d.code, reason: d.reason, policyVersion: d.policyVersion },
  });
}

/**
 * The request as the rules must see it: the target under its one canonical name, the principal's
 * declared type confirmed by the cloud. Cloud answers become 400 (the request is wrong), 502 (the
 * cloud refused the broker) or 503 (the cloud did not answer).
 */
async function resolveWithCloud(provider: CloudAccessProvider, principal: Principal, target: Target): Promise<Target> {
  try {
    const [canonical] = await Promise.all([provider.canonicalTarget(target), provider.verifyPrincipal(principal, target)]);
    return canonical;
  } catch (e) {
    if (!(e instanceof ProviderError)) throw e;
    if (e.kind === 'transient') throw new DomainError('provider_unavailable', `the cloud did not answer in time: ${e.message}`, []);
    if (e.kind === 'terminal') throw new DomainError('provider_rejected', `the cloud refused the broker's lookup: ${e.message}`, []);
    throw new DomainError('validation', e.message, [{ field: e.options.field ?? 'target', message: e.message }]);
  }
}

/** The cloud's limits that need no call (sizes, counts, forbidden roles): a 400 or 422 naming the field. */
function validateForCloud(provider: CloudAccessProvider, spec: GrantSpec): void {
  try {
    provider.validate(spec);
  } catch (e) {
    if (e instanceof ProviderError && (e.kind === 'limit' || e.kind === 'invalid')) {
      throw new DomainError(e.kind === 'limit' ? 'limit_exceeded' : 'validation', e.message, [{ field: e.options.field ?? 'target', message: e.message }]);
    }
    throw e;
  }
}

/**
 * Validates a request, asks the access rules, and then either provisions at once (automatic
 * rule, break-glass) or stores it as `pending_approval` for approvers. A denial is recorded
 * as `policy.denied` and no grant is stored.
 */
export class RequestGrantUseCase {
  constructor(
    private readonly lifecycle: GrantLifecycle,
    private readonly bounds: DurationBounds,
    private readonly policies: PolicySource,
  ) {}

  async execute(actor: Actor, body: unknown, idempotencyKey: string | undefined): Promise<RequestGrantResult> {
    requireRole(actor, 'requester', 'admin');
    const parsed = parseGrantRequest(body, this.bounds);
    let idempotency: { key: string; requestHash: string } | null = null;
    if (idempotencyKey !== undefined) {
      if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
        throw DomainError.validation([{ field: 'Idempotency-Key', message: 'must be 1-255 printable ASCII characters' }]);
      }
      idempotency = { key: idempotencyKey, requestHash: createHash('sha256').update(canonicalize(body) ?? '').digest('hex') };
      // A retried request gets its grant back even if the rules changed in between.
      const replay = await this.replay(actor, idempotency);
      if (replay) return replay;
    }

    const id = randomUUID();
    const { provider, request, verdict } = await this.decide(actor, parsed, id);
    this.lifecycle.hooks.decided(verdict.effect, verdict.effect === 'allow' ? verdict.approval.mode : verdict.code);
    if (verdict.effect === 'deny') {
      await this.lifecycle.store.appendAudit([AuditTrail.policyDenied(actor.subject, request, verdict, actor)]);
      throw denialOf(verdict);
    }
    const mode = verdict.approval.mode;

    const now = this.lifecycle.clock.now();
    const decision: GrantDecision = {
      rule: verdict.rule,
      mode,
      required: verdict.approval.mode === 'approvals' ? verdict.approval.required : 0,
      groups: verdict.approval.mode === 'approvals' ? verdict.approval.groups : [],
      ...(verdict.approval.mode === 'approvals' && { steps: verdict.approval.steps }),
      policyVersion: verdict.policyVersion,
    };
    const pending = verdict.approval.mode === 'approvals';
    const grant: Grant = {
      id,
      state: pending ? 'pending_approval' : 'provisioning',
      cloud: request.cloud,
      kind: request.target.kind,
      principal: request.principal,
      target: request.target,
      requestedBy: actor.subject,
      justification: request.justification,
      ticket: request.ticket,
      durationSeconds: request.durationSeconds,
      createdAt: now,
      startsAt: null,
      // For a pending request this is provisional: the clock starts at the final approval.
      expiresAt: new Date(now.getTime() + request.durationSeconds * 1000),
      endedAt: null,
      endReason: null,
      approvals: pending ? [] : [{ approver: mode === 'break_glass' ? 'break-glass' : `rule:${verdict.rule}`, decision: 'approved', at: now.toISOString() }],
      decision,
      approvalDeadline: verdict.approval.mode === 'approvals' ? new Date(now.getTime() + verdict.approval.timeoutSeconds * 1000) : null,
      artifactName: provider.artifactName(id, request.target),
      overlapKey: provider.overlapKey(request.principal, request.target),
      providerRef: null,
      lastError: null,
      attempts: 0,
      nextAttemptAt: null,
    };

    const events: AuditEventInput[] = [AuditTrail.requested(grant, idempotency?.key ?? null)];
    if (!pending) events.push(AuditTrail.approved(grant, mode === 'break_glass' ? actor.subject : 'policy', null, true));
    if (mode === 'break_glass') events.push(AuditTrail.breakGlass(grant));

    let stored: Grant;
    try {
      stored = await this.lifecycle.store.insert(
        grant,
        idempotency,
        events,
        pending ? null : new Date(now.getTime() + this.lifecycle.settings.leaseMs),
      );
    } catch (e) {
      if (e instanceof DomainError && e.code === 'idempotency_conflict' && idempotency) {
        const replay = await this.replay(actor, idempotency);
        if (replay) return replay;
      }
      throw e;
    }
    if (pending) {
      this.lifecycle.hooks.transitioned('pending_approval');
      if (stored.approvalDeadline) this.lifecycle.hooks.workDue(stored, stored.approvalDeadline);
      return { grant: stored, replayed: false };
    }

    const result = await this.lifecycle.provision(stored, { recovered: false, attempts: REQUEST_GRANT_ATTEMPTS });
    if ('error' in result) throw providerErrorToDomain(result.error, result.grant);
    return { grant: result.grant, credentials: result.outcome.credentials, replayed: false };
  }

  /**
   * What a request would get now, with nothing stored, audited or granted: the same validation,
   * cloud lookups and rules as execute(). For pipelines and people to check before they ask.
   */
  async dryRun(actor: Actor, body: unknown): Promise<{ request: GrantRequest; verdict: PolicyDecision }> {
    requireRole(actor, 'requester', 'admin');
    const { request, verdict } = await this.decide(actor, parseGrantRequest(body, this.bounds), randomUUID());
    this.lifecycle.hooks.decided(verdict.effect, verdict.effect === 'allow' ? verdict.approval.mode : verdict.code, true);
    return { request, verdict };
  }

  /**
   * The rules' verdict on a request, and, if they allow it, the cloud's own limits (checked
   * with the grant id it will get): what execute() acts on and dryRun() reports.
   */
  private async decide(
    actor: Actor,
    parsed: GrantRequest,
    id: string,
  ): Promise<{ provider: CloudAccessProvider; request: GrantRequest; verdict: PolicyDecision }> {
    const provider = this.lifecycle.registry.get(parsed.cloud);
    // The rules and the deny-list judge the target under the one name the cloud knows it by, and the principal as what it is.
    const request = { ...parsed, target: await resolveWithCloud(provider, parsed.principal, parsed.target) };
    const verdict = this.policies.current.evaluate(actor, request);
    if (verdict.effect === 'allow') {
      const now = this.lifecycle.clock.now();
      validateForCloud(provider, {
        grantId: id,
        principal: request.principal,
        target: request.target,
        startsAt: now,
        expiresAt: new Date(now.getTime() + request.durationSeconds * 1000),
        requestedBy: actor.subject,
        justification: request.justification,
        artifactName: provider.artifactName(id, request.target),
      });
    }
    return { provider, request, verdict };
  }

  private async replay(actor: Actor, idempotency: { key: string; requestHash: string }): Promise<RequestGrantResult | null> {
    const existing = await this.lifecycle.store.findByIdempotencyKey(actor.subject, idempotency.key);
    if (!existing) return null;
    if (existing.requestHash !== idempotency.requestHash) {
      throw new DomainError('idempotency_conflict', 'this Idempotency-Key was used with a different request body', [
        { field: 'Idempotency-Key', message: 'was used with another body' },
      ], { grantId: existing.grant.id });
    }
    return { grant: existing.grant, replayed: true };
  }
}
