import { DomainError } from './grant.exception';
import { Approval, EndReason, Grant, GrantDecision, GrantState, approvalProgress, assertTransition } from './grant';
import { GrantEvent, RequesterClaims } from './grant-event';
import { GrantRequest } from './grant-request';
import { expiryFrom, revocationLagSeconds } from './grant-window';
import { GrantPatch } from './ports/grant.repository.port';

/** lastError is kept short: it is shown to requesters and stored on every retry. */
export const MAX_ERROR_LENGTH = 500;
/** Joins a failure to the error of the cleanup still owed for it (see keepForCleanup, failureReason). */
const CLEANUP_PENDING = '; cleanup pending: ';

/**
 * One change of one grant, decided by the grant's behaviour and not yet stored: the state it
 * must still be in, the fields it writes, the grant as it is afterwards, and what it records.
 */
export interface GrantChange {
  /** The grant after the change (`grant.state` is the state it moves to). */
  readonly grant: Grant;
  /** The state the stored grant must still be in; another writer got there first otherwise. */
  readonly from: GrantState;
  /** The fields written besides the state; exactly the keys that change. */
  readonly patch: Omit<GrantPatch, 'leaseUntil'>;
  readonly events: readonly GrantEvent[];
  /** Approvals and denials are guarded on the approvals the grant held, so two decisions never overwrite each other. */
  readonly expect?: { approvalCount: number };
  /**
   * The change writes only the revoke request, which no lease holder writes: it is stored even
   * while another replica holds the row (provisioning it), and leaves that lease alone.
   */
  readonly underLease?: true;
}

/** A grant made by a request, with the events of its creation. */
export interface GrantCreated {
  readonly grant: Grant;
  readonly events: readonly GrantEvent[];
}

/** A pending request whose approval window has closed. */
export function approvalOverdue(g: Grant, now: Date): boolean {
  return g.state === 'pending_approval' && g.approvalDeadline !== null && g.approvalDeadline <= now;
}

/**
 * A revoke was recorded while the grant was provisioning and is still to be carried out: the
 * grant is live (active, or provisioning and not failing) and holds the request.
 */
export function revokeRequestPending(g: Grant): boolean {
  if (!g.revokeRequest) return false;
  return g.state === 'active' || (g.state === 'provisioning' && g.endReason !== 'failed');
}

/** Why a grant failed, without the cleanup error keepForCleanup appended. */
export function failureReason(g: Grant): string {
  const error = g.lastError ?? 'provisioning failed';
  const cut = error.indexOf(CLEANUP_PENDING);
  return cut < 0 ? error : error.slice(0, cut);
}

function change(g: Grant, to: GrantState, patch: GrantChange['patch'], events: GrantEvent[], expect?: GrantChange['expect']): GrantChange {
  assertTransition(g.state, to);
  return { grant: { ...g, ...patch, state: to }, from: g.state, patch, events, ...(expect && { expect }) };
}

/** A provider's notice (what a revoke cannot undo, where only the sweeper enforces) travels with the cloud reference. */
function withNotice(providerRef: Record<string, unknown>, notice: string | undefined): Record<string, unknown> {
  return notice ? { ...providerRef, notice } : providerRef;
}

export interface RequestFacts {
  id: string;
  request: GrantRequest;
  requestedBy: string;
  now: Date;
  /** How the access rules decided; `approvals` leaves the grant pending. */
  decision: GrantDecision;
  /** Approval window of a pending request (mode `approvals`). */
  approvalTimeoutSeconds: number | null;
  artifactName: string;
  overlapKey: string;
  idempotencyKey: string | null;
  /** An OIDC requester's issuer and run claims, recorded with the request (not on the row). */
  requester?: RequesterClaims;
}

/**
 * A new grant: `pending_approval` when the rule needs approvers, else `provisioning` (approved
 * by the rule, or by the requester's break-glass account, which is recorded at high severity).
 */
function request(f: RequestFacts): GrantCreated {
  const { mode } = f.decision;
  const pending = mode === 'approvals';
  const grant: Grant = {
    id: f.id,
    state: pending ? 'pending_approval' : 'provisioning',
    cloud: f.request.cloud,
    kind: f.request.target.kind,
    principal: f.request.principal,
    target: f.request.target,
    requestedBy: f.requestedBy,
    justification: f.request.justification,
    ticket: f.request.ticket,
    durationSeconds: f.request.durationSeconds,
    createdAt: f.now,
    startsAt: null,
    // For a pending request this is provisional: the clock starts at the final approval.
    expiresAt: expiryFrom(f.now, f.request.durationSeconds),
    endedAt: null,
    endReason: null,
    approvals: pending ? [] : [{ approver: mode === 'break_glass' ? 'break-glass' : `rule:${f.decision.rule}`, decision: 'approved', at: f.now.toISOString() }],
    decision: f.decision,
    approvalDeadline: pending ? new Date(f.now.getTime() + (f.approvalTimeoutSeconds ?? 0) * 1000) : null,
    artifactName: f.artifactName,
    overlapKey: f.overlapKey,
    providerRef: null,
    lastError: null,
    attempts: 0,
    nextAttemptAt: null,
  };
  const events: GrantEvent[] = [{ type: 'requested', idempotencyKey: f.idempotencyKey, ...(f.requester && { requester: f.requester }) }];
  if (!pending) events.push({ type: 'approved', actor: mode === 'break_glass' ? f.requestedBy : 'policy', comment: null, final: true });
  if (mode === 'break_glass') events.push({ type: 'break_glass' });
  return { grant, events };
}

/**
 * One approver's approval. Approvals come from distinct approvers, each filling a step their
 * groups allow; the approval that fills the last step starts the grant: its window starts now.
 * Who may decide at all (role, groups under the rules in force, not the requester) is checked
 * before, against the rules.
 */
function approve(g: Grant, a: { approver: string; approverGroups: ReadonlySet<string>; comment: string | null; now: Date }): GrantChange {
  if (g.approvals.some((x) => x.approver === a.approver)) {
    throw new DomainError('invalid_state', `${a.approver} has already approved this request; approvals must come from distinct approvers`, [
      { field: 'approver', message: 'already approved' },
    ], { grantId: g.id, state: g.state });
  }
  const progress = approvalProgress(g, a.approverGroups);
  if (progress.after === progress.before) {
    throw new DomainError(
      'invalid_state',
      `the approvals your groups can give are already in; still needed: ${progress.missing}`,
      [{ field: 'approver', message: 'no open step for your groups' }],
      { grantId: g.id, state: g.state },
    );
  }
  const approvals: Approval[] = [
    ...g.approvals,
    { approver: a.approver, decision: 'approved', ...(a.comment ? { comment: a.comment } : {}), at: a.now.toISOString(), groups: progress.groups },
  ];
  const expect = { approvalCount: g.approvals.length };
  if (progress.after < g.decision!.required) {
    return change(g, 'pending_approval', { approvals }, [{ type: 'approved', actor: a.approver, comment: a.comment, final: false }], expect);
  }
  return change(
    g,
    'provisioning',
    { approvals, expiresAt: expiryFrom(a.now, g.durationSeconds) },
    [{ type: 'approved', actor: a.approver, comment: a.comment, final: true }],
    expect,
  );
}

/** One eligible approver's denial ends a pending request; it needs a comment the requester can read. */
function deny(g: Grant, d: { approver: string; comment: string | null; now: Date }): GrantChange {
  if (!d.comment) throw DomainError.validation([{ field: 'comment', message: 'a denial needs a comment the requester can read' }]);
  return change(
    g,
    'denied',
    {
      endedAt: d.now,
      endReason: 'denied',
      approvals: [...g.approvals, { approver: d.approver, decision: 'denied', comment: d.comment, at: d.now.toISOString() }],
    },
    [{ type: 'denied', actor: d.approver, reason: 'denied', comment: d.comment }],
    // Guarded like approvals, so an approval landing at the same moment is not overwritten.
    { approvalCount: g.approvals.length },
  );
}

/** The rules deny what they once allowed (the target is now on the deny-list): nothing on it is ever granted. */
function denyByPolicy(g: Grant, d: { rule: string; reason: string; now: Date }): GrantChange {
  return change(g, 'denied', { endedAt: d.now, endReason: 'denied' }, [{ type: 'denied', actor: 'policy', reason: 'denied', comment: `${d.rule}: ${d.reason}` }]);
}

/** The requester (or an admin) withdraws a pending request. */
function withdraw(g: Grant, w: { actor: string; reason: string | null; now: Date }): GrantChange {
  return change(g, 'denied', { endReason: 'withdrawn', endedAt: w.now }, [{ type: 'denied', actor: w.actor, reason: 'withdrawn', comment: w.reason }]);
}

/** Nobody decided a pending request before its approval deadline. */
function timeOut(g: Grant, now: Date): GrantChange {
  return change(g, 'denied', { endedAt: now, endReason: 'timeout' }, [
    { type: 'denied', actor: 'broker', reason: 'timeout', comment: `no decision by ${g.approvalDeadline?.toISOString()}` },
  ]);
}

export interface CloudAnswer {
  /** The cloud-side identifiers the provider reported. */
  providerRef: Record<string, unknown>;
  notice?: string;
  /** True when a replica other than the one that started provisioning finishes it. */
  recovered: boolean;
}

/** The first cloud answer records `grant.provisioned`; a later one (a pending recheck) does not again. */
function provisionedOnce(g: Grant, c: CloudAnswer): GrantEvent[] {
  return g.providerRef ? [] : [{ type: 'provisioned', providerRef: c.providerRef, recovered: c.recovered }];
}

/** The cloud accepted the grant but has not settled it (PIM): it stays provisioning and is looked at again. */
function awaitCloud(g: Grant, c: CloudAnswer): GrantChange {
  return change(g, 'provisioning', { providerRef: withNotice(c.providerRef, c.notice) }, provisionedOnce(g, c));
}

/** The cloud holds the access: the grant is active from now until the `expiresAt` it got when provisioning started. */
function activate(g: Grant, c: CloudAnswer & { now: Date }): GrantChange {
  return change(
    g,
    'active',
    { providerRef: withNotice(c.providerRef, c.notice), startsAt: c.now, lastError: null },
    [...provisionedOnce(g, c), { type: 'activated', startsAt: c.now }],
  );
}

/** Provisioning failed and nothing is left in the cloud. */
function fail(g: Grant, f: { reason: string; now: Date }): GrantChange {
  return change(g, 'failed', { lastError: f.reason, endedAt: f.now, endReason: 'failed' }, [{ type: 'failed', error: f.reason }]);
}

/**
 * Provisioning failed but removing what the cloud may hold failed too: the grant stays
 * `provisioning` with `endReason: failed`, so the cleanup is retried rather than the grant.
 */
function keepForCleanup(g: Grant, f: { reason: string; cleanupError: string }): GrantChange {
  return change(g, 'provisioning', {
    endReason: 'failed',
    lastError: `${f.reason}${CLEANUP_PENDING}${f.cleanupError}`.slice(0, MAX_ERROR_LENGTH),
    attempts: g.attempts + 1,
  }, []);
}

/** A requester or admin ends an active grant early; `retryAt` is when another replica may finish it if this one dies. */
function startRevoke(g: Grant, r: { actor: string; reason: string | null; retryAt: Date }): GrantChange {
  // A provisioning grant records the revoke instead (requestRevoke); only carryOutRevoke starts it from there.
  if (g.state === 'provisioning') assertTransition('provisioning', 'revoked');
  return change(g, 'revoking', { endReason: 'revoked', nextAttemptAt: r.retryAt }, [{ type: 'revoke_requested', actor: r.actor, reason: r.reason }]);
}

/**
 * A revoke asked for while the grant is provisioning is never refused: it is recorded on the row
 * (with a `grant.revoke_requested` marked deferred) and carried out as soon as provisioning
 * settles (carryOutRevoke), or noted on the failure if provisioning fails. It is stored even
 * under the lease of the replica provisioning the grant, which finds it on the row it writes
 * next; after a crash, the replica that recovers the grant finds it there too.
 */
function requestRevoke(g: Grant, r: { actor: string; reason: string | null; now: Date }): GrantChange {
  if (g.state !== 'provisioning') {
    throw new DomainError('invalid_state', `only a provisioning grant records a revoke for later; this one is ${g.state}`, [
      { field: 'state', message: `is ${g.state}` },
    ], { grantId: g.id, state: g.state });
  }
  const revokeRequest = { at: r.now, by: r.actor, reason: r.reason };
  return { ...change(g, 'provisioning', { revokeRequest }, [{ type: 'revoke_deferred', actor: r.actor, reason: r.reason }]), underLease: true };
}

/**
 * Starts the revoke recorded while provisioning: from `active` once the cloud holds the access,
 * or from `provisioning` when the grant is recovered after a crash (the revoke removes whatever
 * the cloud may hold, without granting first). Ends like any early revoke (`revoked`).
 */
function carryOutRevoke(g: Grant, r: { retryAt: Date }): GrantChange {
  if (!g.revokeRequest || !revokeRequestPending(g)) {
    throw new DomainError('invalid_state', 'no revoke is waiting to be carried out on this grant', [{ field: 'state', message: `is ${g.state}` }], {
      grantId: g.id,
      state: g.state,
    });
  }
  return change(
    g,
    'revoking',
    { endReason: 'revoked', nextAttemptAt: r.retryAt, ...(g.attempts ? { attempts: 0 } : {}) },
    [{ type: 'revoke_carried_out', request: g.revokeRequest }],
  );
}

/**
 * The revoke call failed: retried at `nextAttemptAt`, or, when `giveUp` (a terminal error or the
 * attempts spent), `revoke_failed`, alerted once at high severity and retried slowly from then on.
 */
function failRevoke(g: Grant, f: { reason: Extract<EndReason, 'expired' | 'revoked'>; error: string; giveUp: boolean; nextAttemptAt: Date }): GrantChange {
  const attempt = g.attempts + 1;
  // A revoke_failed grant stays so until its access ends, whatever its next error.
  const to: GrantState = f.giveUp || g.state === 'revoke_failed' ? 'revoke_failed' : 'revoking';
  const firstFailure = g.state !== 'revoke_failed' && to === 'revoke_failed';
  return change(
    g,
    to,
    { attempts: attempt, nextAttemptAt: f.nextAttemptAt, lastError: f.error, endReason: f.reason },
    [{ type: firstFailure ? 'revoke_failed' : 'revoke_retried', attempt, error: f.error, nextAttemptAt: f.nextAttemptAt }],
  );
}

/** The cloud no longer holds the access: the grant ended as `expired` or `revoked`. */
function end(g: Grant, reason: Extract<EndReason, 'expired' | 'revoked'>, t: { revokeIssuedAt: Date; endedAt: Date }): GrantChange {
  return change(g, reason, { endedAt: t.endedAt, endReason: reason, nextAttemptAt: null }, [
    {
      type: 'ended',
      endReason: reason,
      data: {
        revokeIssuedAt: t.revokeIssuedAt.toISOString(),
        lagSeconds: reason === 'expired' ? revocationLagSeconds(g, t.revokeIssuedAt) : null,
        attempts: g.attempts + 1,
        ...(g.state === 'revoke_failed' ? { afterRevokeFailed: true as const } : {}),
      },
    },
  ]);
}

/** An admin closes a grant the cloud would not let go of, taking responsibility for what it may still hold. */
function forceClose(g: Grant, f: { actor: string; reason: string | null; now: Date }): GrantChange {
  if (g.state !== 'revoke_failed') {
    throw new DomainError('invalid_state', 'only a revoke_failed grant can be force-closed', [{ field: 'force', message: `grant is ${g.state}` }], {
      grantId: g.id,
      state: g.state,
    });
  }
  return change(g, 'revoked', { endedAt: f.now, endReason: 'revoked', nextAttemptAt: null }, [{ type: 'force_closed', actor: f.actor, reason: f.reason }]);
}

/**
 * The grant's behaviour: each function takes the grant as it is and the facts of one event
 * (who, when, what the cloud said), checks the transition, and returns the change with its
 * events; nothing is stored, called or timed here.
 */
export const GrantAggregate = {
  request,
  approve,
  deny,
  denyByPolicy,
  withdraw,
  timeOut,
  awaitCloud,
  activate,
  fail,
  keepForCleanup,
  startRevoke,
  requestRevoke,
  carryOutRevoke,
  failRevoke,
  end,
  expire: (g: Grant, t: { revokeIssuedAt: Date; endedAt: Date }) => end(g, 'expired', t),
  forceClose,
};
