import { Grant, GrantDecision } from './grant';
import { GrantAggregate, MAX_ERROR_LENGTH, approvalOverdue, failureReason, revokeRequestPending } from './grant-aggregate';
import { expiryFrom, grantSpec, windowStart } from './grant-window';
import { DomainError } from './grant.exception';
import { GrantRequest } from './grant-request';

const T = (s: number) => new Date(Date.UTC(2026, 11, 5, 12, 0, s));
const HOUR = 3600;

const request: GrantRequest = {
  cloud: 'aws',
  principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci' },
  target: { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] },
  durationSeconds: HOUR,
  justification: 'release',
  ticket: 'CHG-1',
};

const decision = (over: Partial<GrantDecision> = {}): GrantDecision => ({ rule: 'ci', mode: 'auto', required: 0, groups: [], policyVersion: 'v1', ...over });
const twoFromSre = decision({ rule: 'people', mode: 'approvals', required: 2, groups: ['sre'] });

function requested(d: GrantDecision, now = T(0)) {
  return GrantAggregate.request({
    id: '00000000-0000-4000-8000-000000000001',
    request,
    requestedBy: 'alice',
    now,
    decision: d,
    approvalTimeoutSeconds: d.mode === 'approvals' ? 600 : null,
    artifactName: 'jit-1',
    overlapKey: 'k',
    idempotencyKey: 'build-1',
  });
}

const pending = () => requested(twoFromSre).grant;
const inState = (state: Grant['state'], over: Partial<Grant> = {}): Grant => ({ ...requested(decision()).grant, state, ...over });
const sre = new Set(['sre']);

describe('GrantAggregate', () => {
  describe('request', () => {
    it('should provision an automatically allowed request at once, its window starting now, approved by the rule', () => {
      const { grant, events } = requested(decision());
      expect(grant).toMatchObject({ state: 'provisioning', createdAt: T(0), expiresAt: T(HOUR), approvalDeadline: null, attempts: 0 });
      expect(grant.approvals).toEqual([{ approver: 'rule:ci', decision: 'approved', at: T(0).toISOString() }]);
      expect(events).toEqual([
        { type: 'requested', idempotencyKey: 'build-1' },
        { type: 'approved', actor: 'policy', comment: null, final: true },
      ]);
    });

    it('should record a break-glass request as approved by the requester, at high severity', () => {
      const { grant, events } = requested(decision({ rule: 'break-glass', mode: 'break_glass' }));
      expect(grant.approvals[0].approver).toBe('break-glass');
      expect(events.map((e) => e.type)).toEqual(['requested', 'approved', 'break_glass']);
      expect(events[1]).toMatchObject({ actor: 'alice', final: true });
    });

    it('should leave a request that needs approvers pending until its deadline, with nothing approved', () => {
      const { grant, events } = requested(twoFromSre);
      expect(grant).toMatchObject({ state: 'pending_approval', approvals: [], approvalDeadline: T(600) });
      expect(events).toEqual([{ type: 'requested', idempotencyKey: 'build-1' }]);
    });
  });

  describe('approve', () => {
    it('should keep the request pending until the last step is filled, guarded on the approvals it held', () => {
      const first = GrantAggregate.approve(pending(), { approver: 'bob', approverGroups: sre, comment: 'ok', now: T(60) });
      expect(first.grant.state).toBe('pending_approval');
      expect(first.patch).toEqual({ approvals: [{ approver: 'bob', decision: 'approved', comment: 'ok', at: T(60).toISOString(), groups: ['sre'] }] });
      expect(first.expect).toEqual({ approvalCount: 0 });
      expect(first.events).toEqual([{ type: 'approved', actor: 'bob', comment: 'ok', final: false }]);
    });

    it('should start the clock at the final approval, not at the request', () => {
      const once = GrantAggregate.approve(pending(), { approver: 'bob', approverGroups: sre, comment: null, now: T(60) }).grant;
      const final = GrantAggregate.approve(once, { approver: 'carol', approverGroups: sre, comment: null, now: T(120) });
      expect(final.from).toBe('pending_approval');
      expect(final.grant).toMatchObject({ state: 'provisioning', expiresAt: T(120 + HOUR) });
      expect(final.patch.expiresAt).toEqual(T(120 + HOUR));
      expect(final.expect).toEqual({ approvalCount: 1 });
      expect(final.events).toEqual([{ type: 'approved', actor: 'carol', comment: null, final: true }]);
      expect(windowStart(final.grant)).toEqual(T(120));
    });

    it('should refuse a second approval by the same approver, and one no open step needs', () => {
      const once = GrantAggregate.approve(pending(), { approver: 'bob', approverGroups: sre, comment: null, now: T(60) }).grant;
      expect(() => GrantAggregate.approve(once, { approver: 'bob', approverGroups: sre, comment: null, now: T(61) })).toThrow(/already approved/);
      const steps = requested(decision({ mode: 'approvals', required: 2, groups: ['sre', 'security'], steps: [{ required: 1, groups: ['sre'] }, { required: 1, groups: ['security'] }] })).grant;
      const bob = GrantAggregate.approve(steps, { approver: 'bob', approverGroups: sre, comment: null, now: T(60) }).grant;
      expect(() => GrantAggregate.approve(bob, { approver: 'dan', approverGroups: sre, comment: null, now: T(61) })).toThrow(
        expect.objectContaining({ code: 'invalid_state', message: expect.stringContaining('still needed: 1 from security') }),
      );
    });

    it('should not approve what is no longer pending', () => {
      expect(() => GrantAggregate.approve(inState('active'), { approver: 'bob', approverGroups: sre, comment: null, now: T(1) })).toThrow(DomainError);
    });
  });

  describe('deny, withdraw and time out', () => {
    it('should need a comment to deny, and record the denial among the approvals', () => {
      expect(() => GrantAggregate.deny(pending(), { approver: 'bob', comment: null, now: T(5) })).toThrow(
        expect.objectContaining({ code: 'validation', issues: [expect.objectContaining({ field: 'comment' })] }),
      );
      const denied = GrantAggregate.deny(pending(), { approver: 'bob', comment: 'no', now: T(5) });
      expect(denied.grant).toMatchObject({ state: 'denied', endReason: 'denied', endedAt: T(5) });
      expect(denied.grant.approvals).toEqual([{ approver: 'bob', decision: 'denied', comment: 'no', at: T(5).toISOString() }]);
      expect(denied.expect).toEqual({ approvalCount: 0 });
      expect(denied.events).toEqual([{ type: 'denied', actor: 'bob', reason: 'denied', comment: 'no' }]);
    });

    it('should deny by the rules, withdraw for the requester and time out for the broker, each saying why', () => {
      expect(GrantAggregate.denyByPolicy(pending(), { rule: 'deny-list:prod', reason: 'frozen', now: T(1) }).events).toEqual([
        { type: 'denied', actor: 'policy', reason: 'denied', comment: 'deny-list:prod: frozen' },
      ]);
      const withdrawn = GrantAggregate.withdraw(pending(), { actor: 'alice', reason: 'not needed', now: T(2) });
      expect(withdrawn.patch).toEqual({ endReason: 'withdrawn', endedAt: T(2) });
      const timedOut = GrantAggregate.timeOut(pending(), T(600));
      expect(timedOut.patch).toEqual({ endedAt: T(600), endReason: 'timeout' });
      expect(timedOut.events).toEqual([{ type: 'denied', actor: 'broker', reason: 'timeout', comment: `no decision by ${T(600).toISOString()}` }]);
    });

    it('should know when a pending request is overdue', () => {
      expect(approvalOverdue(pending(), T(599))).toBe(false);
      expect(approvalOverdue(pending(), T(600))).toBe(true);
      expect(approvalOverdue(inState('active', { approvalDeadline: T(1) }), T(600))).toBe(false);
    });
  });

  describe('provisioning', () => {
    const answer = { providerRef: { id: 'p-1' }, notice: 'tokens outlive a revoke', recovered: true };

    it('should record provisioned once and activated when the cloud holds the access, keeping the notice with the reference', () => {
      const active = GrantAggregate.activate(inState('provisioning', { lastError: 'earlier try' }), { ...answer, now: T(3) });
      expect(active.grant).toMatchObject({ state: 'active', startsAt: T(3), lastError: null, expiresAt: T(HOUR) });
      expect(active.patch.providerRef).toEqual({ id: 'p-1', notice: 'tokens outlive a revoke' });
      expect(active.events).toEqual([
        { type: 'provisioned', providerRef: { id: 'p-1' }, recovered: true },
        { type: 'activated', startsAt: T(3) },
      ]);
      const afterPending = GrantAggregate.activate(inState('provisioning', { providerRef: { id: 'p-1' } }), { ...answer, now: T(9) });
      expect(afterPending.events).toEqual([{ type: 'activated', startsAt: T(9) }]);
    });

    it('should keep a grant the cloud left pending in provisioning', () => {
      const waiting = GrantAggregate.awaitCloud(inState('provisioning'), { providerRef: { id: 'p-1' }, recovered: false });
      expect(waiting.grant.state).toBe('provisioning');
      expect(waiting.events).toEqual([{ type: 'provisioned', providerRef: { id: 'p-1' }, recovered: false }]);
    });

    it('should not activate a grant that was never provisioned', () => {
      expect(() => GrantAggregate.activate(pending(), { ...answer, now: T(1) })).toThrow(expect.objectContaining({ code: 'invalid_state' }));
    });

    it('should keep a failed grant for its cleanup, then fail it with the original reason', () => {
      const g = inState('provisioning');
      const kept = GrantAggregate.keepForCleanup(g, { reason: 'AccessDenied: no', cleanupError: 'Throttling: slow down' });
      expect(kept.grant).toMatchObject({ state: 'provisioning', endReason: 'failed', attempts: 1, lastError: 'AccessDenied: no; cleanup pending: Throttling: slow down' });
      expect(kept.events).toEqual([]);
      expect(failureReason(kept.grant)).toBe('AccessDenied: no');
      expect(GrantAggregate.keepForCleanup(g, { reason: 'x', cleanupError: 'y'.repeat(900) }).grant.lastError).toHaveLength(MAX_ERROR_LENGTH);
      const failed = GrantAggregate.fail(kept.grant, { reason: failureReason(kept.grant), now: T(7) });
      expect(failed.grant).toMatchObject({ state: 'failed', endReason: 'failed', endedAt: T(7), lastError: 'AccessDenied: no' });
      expect(failed.events).toEqual([{ type: 'failed', error: 'AccessDenied: no' }]);
      expect(failureReason(inState('provisioning'))).toBe('provisioning failed');
    });
  });

  describe('revocation and expiry', () => {
    it('should start a revocation only of an active grant', () => {
      const revoking = GrantAggregate.startRevoke(inState('active'), { actor: 'alice', reason: 'done', retryAt: T(60) });
      expect(revoking.patch).toEqual({ endReason: 'revoked', nextAttemptAt: T(60) });
      expect(revoking.events).toEqual([{ type: 'revoke_requested', actor: 'alice', reason: 'done' }]);
      expect(() => GrantAggregate.startRevoke(inState('provisioning'), { actor: 'alice', reason: null, retryAt: T(60) })).toThrow(DomainError);
    });

    it('should record a revoke asked for while provisioning, under the provisioning replica\'s lease, without moving the grant', () => {
      const recorded = GrantAggregate.requestRevoke(inState('provisioning'), { actor: 'alice', reason: 'wrong account', now: T(3) });
      expect(recorded.from).toBe('provisioning');
      expect(recorded.grant.state).toBe('provisioning');
      expect(recorded.patch).toEqual({ revokeRequest: { at: T(3), by: 'alice', reason: 'wrong account' } });
      expect(recorded.underLease).toBe(true);
      expect(recorded.events).toEqual([{ type: 'revoke_deferred', actor: 'alice', reason: 'wrong account' }]);
      expect(revokeRequestPending(recorded.grant)).toBe(true);
      for (const state of ['active', 'pending_approval', 'revoked'] as const) {
        expect(() => GrantAggregate.requestRevoke(inState(state), { actor: 'alice', reason: null, now: T(3) })).toThrow(
          expect.objectContaining({ code: 'invalid_state' }),
        );
      }
    });

    it('should carry out a recorded revoke once the grant is active, or from provisioning when recovered, as an early revoke', () => {
      const revokeRequest = { at: T(3), by: 'alice', reason: 'wrong account' };
      const fromActive = GrantAggregate.carryOutRevoke(inState('active', { revokeRequest }), { retryAt: T(70) });
      expect(fromActive.from).toBe('active');
      expect(fromActive.grant).toMatchObject({ state: 'revoking', endReason: 'revoked', nextAttemptAt: T(70) });
      expect(fromActive.patch).toEqual({ endReason: 'revoked', nextAttemptAt: T(70) });
      expect(fromActive.events).toEqual([{ type: 'revoke_carried_out', request: revokeRequest }]);
      expect(fromActive.underLease).toBeUndefined();
      const ended = GrantAggregate.end(fromActive.grant, 'revoked', { revokeIssuedAt: T(71), endedAt: T(72) });
      expect(ended.grant).toMatchObject({ state: 'revoked', endReason: 'revoked' });

      // A crashed replica left it provisioning, after a cleanup attempt: the revoke's attempts start afresh.
      const fromProvisioning = GrantAggregate.carryOutRevoke(inState('provisioning', { revokeRequest, attempts: 2 }), { retryAt: T(70) });
      expect(fromProvisioning.from).toBe('provisioning');
      expect(fromProvisioning.grant).toMatchObject({ state: 'revoking', endReason: 'revoked', attempts: 0 });
    });

    it('should not carry out a revoke nobody recorded, nor one on a grant whose provisioning is failing', () => {
      const revokeRequest = { at: T(3), by: 'alice', reason: null };
      expect(() => GrantAggregate.carryOutRevoke(inState('active'), { retryAt: T(70) })).toThrow(expect.objectContaining({ code: 'invalid_state' }));
      const failing = inState('provisioning', { revokeRequest, endReason: 'failed', lastError: 'AccessDenied' });
      expect(revokeRequestPending(failing)).toBe(false);
      expect(() => GrantAggregate.carryOutRevoke(failing, { retryAt: T(70) })).toThrow(DomainError);
      expect(revokeRequestPending(inState('revoked', { revokeRequest }))).toBe(false);
      // The failure keeps the request on the grant, for the record (the audit notes it).
      expect(GrantAggregate.fail(failing, { reason: 'AccessDenied', now: T(9) }).grant).toMatchObject({ state: 'failed', revokeRequest });
    });

    it('should retry a failed revocation, then give up into revoke_failed, alerting once', () => {
      const retried = GrantAggregate.failRevoke(inState('active'), { reason: 'expired', error: 'Throttling', giveUp: false, nextAttemptAt: T(10) });
      expect(retried.grant).toMatchObject({ state: 'revoking', attempts: 1, endReason: 'expired', lastError: 'Throttling', nextAttemptAt: T(10) });
      expect(retried.events).toEqual([{ type: 'revoke_retried', attempt: 1, error: 'Throttling', nextAttemptAt: T(10) }]);
      const failed = GrantAggregate.failRevoke(retried.grant, { reason: 'expired', error: 'AccessDenied', giveUp: true, nextAttemptAt: T(900) });
      expect(failed.grant).toMatchObject({ state: 'revoke_failed', attempts: 2 });
      expect(failed.events).toEqual([{ type: 'revoke_failed', attempt: 2, error: 'AccessDenied', nextAttemptAt: T(900) }]);
      const again = GrantAggregate.failRevoke(failed.grant, { reason: 'expired', error: 'AccessDenied', giveUp: true, nextAttemptAt: T(1800) });
      expect(again.events.map((e) => e.type)).toEqual(['revoke_retried']);
    });

    it('should keep a revoke_failed grant revoke_failed when a later retry fails with a retryable error', () => {
      const failed = inState('revoke_failed', { attempts: 1, endReason: 'expired' });
      const retried = GrantAggregate.failRevoke(failed, { reason: 'expired', error: 'Throttling', giveUp: false, nextAttemptAt: T(20) });
      expect(retried.grant).toMatchObject({ state: 'revoke_failed', attempts: 2 });
      expect(retried.events.map((e) => e.type)).toEqual(['revoke_retried']);
    });

    it('should expire with the lag from expiresAt to the revoke call, and end an early revocation without one', () => {
      const expired = GrantAggregate.expire(inState('active', { attempts: 0 }), { revokeIssuedAt: T(HOUR + 2), endedAt: T(HOUR + 3) });
      expect(expired.grant).toMatchObject({ state: 'expired', endReason: 'expired', endedAt: T(HOUR + 3), nextAttemptAt: null });
      expect(expired.events).toEqual([
        { type: 'ended', endReason: 'expired', data: { revokeIssuedAt: T(HOUR + 2).toISOString(), lagSeconds: 2, attempts: 1 } },
      ]);
      const revoked = GrantAggregate.end(inState('revoke_failed', { attempts: 5 }), 'revoked', { revokeIssuedAt: T(5), endedAt: T(6) });
      expect(revoked.events).toEqual([
        { type: 'ended', endReason: 'revoked', data: { revokeIssuedAt: T(5).toISOString(), lagSeconds: null, attempts: 6, afterRevokeFailed: true } },
      ]);
    });

    it('should force-close only a revoke_failed grant', () => {
      const closed = GrantAggregate.forceClose(inState('revoke_failed'), { actor: 'admin', reason: 'deleted by hand', now: T(9) });
      expect(closed.grant).toMatchObject({ state: 'revoked', endReason: 'revoked', endedAt: T(9), nextAttemptAt: null });
      expect(closed.events).toEqual([{ type: 'force_closed', actor: 'admin', reason: 'deleted by hand' }]);
      expect(() => GrantAggregate.forceClose(inState('active'), { actor: 'admin', reason: null, now: T(9) })).toThrow(
        expect.objectContaining({ code: 'invalid_state', issues: [{ field: 'force', message: 'grant is active' }] }),
      );
    });

    it('should never leave an ended grant', () => {
      expect(() => GrantAggregate.expire(inState('revoked'), { revokeIssuedAt: T(1), endedAt: T(1) })).toThrow(DomainError);
    });
  });

  describe('the window', () => {
    it('should give providers the window that provisioning started, then the one activation fixed', () => {
      const g = requested(decision(), T(30)).grant;
      expect(expiryFrom(T(30), HOUR)).toEqual(T(30 + HOUR));
      expect(grantSpec(g)).toMatchObject({ startsAt: T(30), expiresAt: T(30 + HOUR), artifactName: 'jit-1', requestedBy: 'alice' });
      expect(grantSpec({ ...g, startsAt: T(40) }).startsAt).toEqual(T(40));
    });

    it('should give a grant activated only after its window ended the window provisioning started, so it can be revoked', () => {
      // Seen in `npm run chaos`: the cloud answered after expiresAt; AWS refused every revoke of a window ending before it started.
      const g = { ...requested(decision(), T(30)).grant, state: 'active' as const, startsAt: T(31 + HOUR) };
      expect(grantSpec(g)).toMatchObject({ startsAt: T(30), expiresAt: T(30 + HOUR) });
      expect(grantSpec({ ...g, startsAt: T(30 + HOUR) }).startsAt).toEqual(T(30));
    });
  });
});
