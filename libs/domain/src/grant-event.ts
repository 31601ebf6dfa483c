import { EndReason, RevokeRequest } from './grant';

/**
 * What happened to a grant, as the grant's behaviour decides it: which events a change records
 * and the facts only the change knows (who, why, when the revoke went out). How an event is
 * written down (its type name and data fields, hashed and exported) is the audit trail's
 * contract and lives with it (`AuditTrail` in libs/audit); libs/grants renders these intents
 * against the row the store committed, so an event describes the stored state.
 */
export type GrantEvent =
  /** `requester`: the OIDC issuer and the run's claims (repository, ref, run id...) of a pipeline's token, when it had one. */
  | { type: 'requested'; idempotencyKey: string | null; requester?: RequesterClaims }
  /** `final` when this approval made the grant go ahead. */
  | { type: 'approved'; actor: string; comment: string | null; final: boolean }
  | { type: 'denied'; actor: string; reason: 'denied' | 'timeout' | 'withdrawn'; comment: string | null }
  | { type: 'break_glass' }
  | { type: 'provisioned'; providerRef: Record<string, unknown>; recovered: boolean }
  | { type: 'activated'; startsAt: Date }
  | { type: 'revoke_requested'; actor: string; reason: string | null }
  /** A revoke asked for while provisioning: recorded, carried out once provisioning settles. */
  | { type: 'revoke_deferred'; actor: string; reason: string | null }
  /** The broker starts the revoke recorded while provisioning (`revoke_deferred`). */
  | { type: 'revoke_carried_out'; request: RevokeRequest }
  | { type: 'ended'; endReason: Extract<EndReason, 'expired' | 'revoked'>; data: EndedData }
  | { type: 'force_closed'; actor: string; reason: string | null }
  | { type: 'failed'; error: string }
  | { type: 'revoke_retried'; attempt: number; error: string; nextAttemptAt: Date }
  | { type: 'revoke_failed'; attempt: number; error: string; nextAttemptAt: Date };

/** Who asked, beyond the subject: the issuer that vouched for an OIDC token and the claims that identify the run. */
export interface RequesterClaims {
  issuer: string;
  claims: Record<string, string | number | boolean>;
}

/** What the end of a grant's access records: when the revoke was issued, how late, after how many attempts. */
export interface EndedData {
  revokeIssuedAt: string;
  /** Seconds from `expiresAt` to the revoke call; null for an early revocation. */
  lagSeconds: number | null;
  attempts: number;
  /** Present (true) when the access ended on a retry after the grant had become `revoke_failed`. */
  afterRevokeFailed?: true;
}
