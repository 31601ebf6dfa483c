import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import { AuditTrail } from '@jit/audit';
import { DomainError, DurationBounds, Grant, GrantSpec, ProviderError, parseGrantRequest } from '@jit/domain';
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
/** Approvals are automatic until access rules land; the audit log names the rule that decided. */
const AUTO_APPROVAL_RULE = 'auto:within-duration-bounds';

export class RequestGrantUseCase {
  constructor(
    private readonly lifecycle: GrantLifecycle,
    private readonly bounds: DurationBounds,
  ) {}

  async execute(actor: Actor, body: unknown, idempotencyKey: string | undefined): Promise<RequestGrantResult> {
    requireRole(actor, 'requester', 'admin');
    const request = parseGrantRequest(body, this.bounds);
    let idempotency: { key: string; requestHash: string } | null = null;
    if (idempotencyKey !== undefined) {
      if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
        throw DomainError.validation([{ field: 'Idempotency-Key', message: 'must be 1-255 printable ASCII characters' }]);
      }
      idempotency = { key: idempotencyKey, requestHash: createHash('sha256').update(canonicalize(body) ?? '').digest('hex') };
      const replay = await this.replay(actor, idempotency);
      if (replay) return replay;
    }

    const provider = this.lifecycle.registry.get(request.cloud);
    const now = this.lifecycle.clock.now();
    const id = randomUUID();
    const grant: Grant = {
      id,
      state: 'provisioning',
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
      expiresAt: new Date(now.getTime() + request.durationSeconds * 1000),
      endedAt: null,
      endReason: null,
      approvals: [{ approver: AUTO_APPROVAL_RULE, decision: 'approved', at: now.toISOString() }],
      artifactName: provider.artifactName(id, request.target),
      overlapKey: provider.overlapKey(request.principal, request.target),
      providerRef: null,
      lastError: null,
      attempts: 0,
      nextAttemptAt: null,
    };
    const spec: GrantSpec = this.lifecycle.spec(grant);
    try {
      provider.validate(spec);
    } catch (e) {
      if (e instanceof ProviderError && (e.kind === 'limit' || e.kind === 'invalid')) {
        throw new DomainError(e.kind === 'limit' ? 'limit_exceeded' : 'validation', e.message, [
          { field: e.options.field ?? 'target', message: e.message },
        ]);
      }
      throw e;
    }

    let stored: Grant;
    try {
      stored = await this.lifecycle.store.insert(
        grant,
        idempotency,
        [AuditTrail.requested(grant, idempotency?.key ?? null), AuditTrail.approved(grant, 'policy', AUTO_APPROVAL_RULE)],
        new Date(now.getTime() + this.lifecycle.settings.leaseMs),
      );
    } catch (e) {
      if (e instanceof DomainError && e.code === 'idempotency_conflict' && idempotency) {
        const replay = await this.replay(actor, idempotency);
        if (replay) return replay;
      }
      throw e;
    }

    const result = await this.lifecycle.provision(stored, { recovered: false, attempts: REQUEST_GRANT_ATTEMPTS });
    if ('error' in result) throw providerErrorToDomain(result.error, result.grant);
    return { grant: result.grant, credentials: result.outcome.credentials, replayed: false };
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
