import { randomUUID } from 'node:crypto';
import { CloudAccessProvider, Grant, Principal, Target } from '@jit/domain';

export interface GrantRowOptions {
  id?: string;
  state: Grant['state'];
  principal: Principal;
  target: Target;
  expiresAt: Date;
  /** Default: the window before expiresAt, 600 s. */
  durationSeconds?: number;
  requestedBy?: string;
  /** Default: the local cloud's reference for an active grant, null otherwise. */
  providerRef?: Grant['providerRef'];
}

/**
 * A stored grant row as a test seeds it directly (no rules, no approvals): the artifact name and
 * overlap key from `provider`, created `durationSeconds` before `expiresAt`, started then when
 * active. One builder instead of a 26-field literal in every medium spec.
 */
export function grantRow(provider: CloudAccessProvider, o: GrantRowOptions): Grant {
  const id = o.id ?? randomUUID();
  const durationSeconds = o.durationSeconds ?? 600;
  const createdAt = new Date(o.expiresAt.getTime() - durationSeconds * 1000);
  const artifactName = provider.artifactName(id, o.target);
  return {
    id,
    state: o.state,
    cloud: provider.cloud,
    kind: o.target.kind,
    principal: o.principal,
    target: o.target,
    requestedBy: o.requestedBy ?? 'alice',
    justification: null,
    ticket: null,
    durationSeconds,
    createdAt,
    startsAt: o.state === 'active' ? createdAt : null,
    expiresAt: o.expiresAt,
    endedAt: null,
    endReason: null,
    approvals: [],
    artifactName,
    overlapKey: provider.overlapKey(o.principal, o.target),
    providerRef: o.providerRef !== undefined ? o.providerRef : o.state === 'active' ? { local: provider.cloud, artifact: artifactName } : null,
    lastError: null,
    attempts: 0,
    nextAttemptAt: null,
    decision: null,
    approvalDeadline: null,
  };
}
