import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import { AuditLog, AuditTrail } from '@jit/audit';
import {
  Clock,
  CloudAccessProvider,
  DomainError,
  DurationBounds,
  Grant,
  GrantAggregate,
  GrantRequest,
  GrantSpec,
  GrantRepository,
  Principal,
  ProviderError,
  Target,
  expiryFrom,
  TargetKinds,
  parseGrantRequest,
} from '@jit/domain';
import { PolicyDecision, PolicySource } from '@jit/policy';
import { Actor, requireRole } from './actor';
import { CloudProviderRegistry } from './cloud-provider.registry';
import { GrantLifecycle, REQUEST_GRANT_ATTEMPTS } from './grant-lifecycle';
import { GrantTransitions } from './grant-transitions';
import { LifecycleHooks } from './lifecycle-hooks';
import { providerErrorToDomain } from './provider-failure';
import { requesterClaimsOf } from './requester-claims';

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
 * declared type confirmed by the cloud.
 */
async function resolveWithCloud(lifecycle: GrantLifecycle, provider: CloudAccessProvider, principal: Principal, target: Target): Promise<Target> {
  try {
    return await lifecycle.lookup(provider, principal, target);
  } catch (e) {
    if (e instanceof ProviderError) throw providerErrorToDomain(e, "the broker's lookup");
    throw e;
  }
}

/** The cloud's limits that need no call (sizes, counts, forbidden roles): a 400 or 422 naming the field. */
function validateForCloud(provider: CloudAccessProvider, spec: GrantSpec): void {
  try {
    provider.validate(spec);
  } catch (e) {
    if (e instanceof ProviderError) throw providerErrorToDomain(e, 'the grant');
    throw e;
  }
}

/**
 * Validates a request, asks the access rules, and then either provisions at once (automatic
 * rule, break-glass) or stores it as `pending_approval` for approvers. A denial is recorded
 * as `policy.denied` and no grant is stored.
 */
export interface RequestGrantDeps {
  store: GrantRepository;
  audit: AuditLog;
  transitions: GrantTransitions;
  lifecycle: GrantLifecycle;
  registry: CloudProviderRegistry;
  clock: Clock;
  hooks: LifecycleHooks;
  policies: PolicySource;
  bounds: DurationBounds;
  /** The target kinds requests are parsed against (the registry built at the composition root). */
  kinds: TargetKinds;
  /** How long a new grant's row is held while this request calls the cloud. */
  leaseMs: number;
}

export class RequestGrantUseCase {
  constructor(private readonly deps: RequestGrantDeps) {}

  async execute(actor: Actor, body: unknown, idempotencyKey: string | undefined): Promise<RequestGrantResult> {
    requireRole(actor, 'requester', 'admin');
    const parsed = parseGrantRequest(body, this.deps.bounds, this.deps.kinds);
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
    this.deps.hooks.decided(verdict.effect, verdict.effect === 'allow' ? verdict.approval.mode : verdict.code);
    if (verdict.effect === 'deny') {
      await this.deps.audit.record([AuditTrail.policyDenied(actor.subject, request, verdict, actor)]);
      throw denialOf(verdict);
    }
    const { approval } = verdict;
    const now = this.deps.clock.now();
    const created = GrantAggregate.request({
      id,
      request,
      requestedBy: actor.subject,
      now,
      decision: {
        rule: verdict.rule,
        mode: approval.mode,
        required: approval.mode === 'approvals' ? approval.required : 0,
        groups: approval.mode === 'approvals' ? approval.groups : [],
        ...(approval.mode === 'approvals' && { steps: approval.steps }),
        policyVersion: verdict.policyVersion,
      },
      approvalTimeoutSeconds: approval.mode === 'approvals' ? approval.timeoutSeconds : null,
      artifactName: provider.artifactName(id, request.target),
      overlapKey: provider.overlapKey(request.principal, request.target),
      idempotencyKey: idempotency?.key ?? null,
      requester: requesterClaimsOf(actor),
    });
    const pending = created.grant.state === 'pending_approval';

    let stored: Grant;
    try {
      stored = await this.deps.transitions.create(created, idempotency, pending ? null : new Date(now.getTime() + this.deps.leaseMs));
    } catch (e) {
      if (e instanceof DomainError && e.code === 'idempotency_conflict' && idempotency) {
        const replay = await this.replay(actor, idempotency);
        if (replay) return replay;
      }
      throw e;
    }
    if (pending) return { grant: stored, replayed: false };

    const result = await this.deps.lifecycle.provision(stored, { recovered: false, attempts: REQUEST_GRANT_ATTEMPTS });
    if ('error' in result) throw providerErrorToDomain(result.error, 'the grant', result.grant);
    return { grant: result.grant, credentials: result.outcome.credentials, replayed: false };
  }

  /**
   * What a request would get now, with nothing stored, audited or granted: the same validation,
   * cloud lookups and rules as execute(). For pipelines and people to check before they ask.
   */
  async dryRun(
    actor: Actor,
    body: unknown,
  ): Promise<{ request: GrantRequest; verdict: PolicyDecision; bounds: DurationBounds; maxDurationSeconds: number }> {
    requireRole(actor, 'requester', 'admin');
    const policy = this.deps.policies.current;
    const { request, verdict } = await this.decide(actor, parseGrantRequest(body, this.deps.bounds, this.deps.kinds), randomUUID());
    this.deps.hooks.decided(verdict.effect, verdict.effect === 'allow' ? verdict.approval.mode : verdict.code, true);
    // The longest grant this request could get now: the broker's bound, shortened by the rule that decided.
    const ruleMax = verdict.rule === null ? undefined : policy.maxDurationOf(verdict.rule);
    const maxDurationSeconds = Math.min(this.deps.bounds.maxSeconds, ruleMax ?? Infinity);
    return { request, verdict, bounds: this.deps.bounds, maxDurationSeconds };
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
    const provider = this.deps.registry.get(parsed.cloud);
    // The rules and the deny-list judge the target under the one name the cloud knows it by, and the principal as what it is.
    const request = { ...parsed, target: await resolveWithCloud(this.deps.lifecycle, provider, parsed.principal, parsed.target) };
    const verdict = this.deps.policies.current.evaluate(actor, request);
    if (verdict.effect === 'allow') {
      const now = this.deps.clock.now();
      validateForCloud(provider, {
        grantId: id,
        principal: request.principal,
        target: request.target,
        startsAt: now,
        expiresAt: expiryFrom(now, request.durationSeconds),
        requestedBy: actor.subject,
        justification: request.justification,
        artifactName: provider.artifactName(id, request.target),
      });
    }
    return { provider, request, verdict };
  }

  private async replay(actor: Actor, idempotency: { key: string; requestHash: string }): Promise<RequestGrantResult | null> {
    const existing = await this.deps.store.findByIdempotencyKey(actor.subject, idempotency.key);
    if (!existing) return null;
    if (existing.requestHash !== idempotency.requestHash) {
      throw new DomainError('idempotency_conflict', 'this Idempotency-Key was used with a different request body', [
        { field: 'Idempotency-Key', message: 'was used with another body' },
      ], { grantId: existing.grant.id });
    }
    return { grant: existing.grant, replayed: true };
  }
}
