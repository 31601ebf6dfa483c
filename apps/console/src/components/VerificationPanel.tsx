import { useQuery } from '@tanstack/react-query';
import { api } from '../api';
import { ErrorState, Loading } from './states';
import { ago, formatTime } from '../format';

/**
 * The chain's verification (GET /v1/audit/verify, the incremental walk from the last valid signed
 * checkpoint) and the last signed checkpoint (GET /v1/audit/checkpoints), said plainly.
 */
export function VerificationPanel() {
  const verify = useQuery({
    queryKey: ['audit', 'verify'],
    queryFn: () => api.verifyAuditChain({}),
    refetchInterval: 60_000,
    retry: false,
  });
  const latestSeq = verify.data?.checkpoints.latestSeq ?? null;
  const checkpoint = useQuery({
    queryKey: ['audit', 'checkpoint', latestSeq],
    queryFn: () => api.listAuditCheckpoints({ after: Math.max(0, (latestSeq ?? 1) - 1), limit: 1 }),
    enabled: latestSeq !== null,
  });
  const v = verify.data;
  const last = checkpoint.data?.items[0];
  return (
    <section className={`card verification ${v ? (v.ok ? 'verification-ok' : 'verification-broken') : ''}`} aria-labelledby="verify-title">
      <h2 id="verify-title" className="verification-title">
        Audit chain
      </h2>
      {verify.isPending && <Loading what="the chain's verification" />}
      <ErrorState error={verify.error} title="Could not verify the chain" />
      {v && (
        <div className="verification-body">
          <p className="verification-status" data-testid="chain-status">
            {v.ok ? (
              <>
                <span className="badge badge-ok">Verified</span> The chain is intact up to event #{v.head.seq.toLocaleString()} ({v.checked.toLocaleString()} event{v.checked === 1 ? '' : 's'} walked
                {v.walk.from === 'checkpoint' ? ' after the last valid signed checkpoint' : ''}).
              </>
            ) : (
              <>
                <span className="badge badge-danger">Broken</span> {v.brokenCount.toLocaleString()} break{v.brokenCount === 1 ? '' : 's'} among {v.checked.toLocaleString()} events
                {v.firstBroken ? `, first at #${v.firstBroken.seq}` : ''}.
              </>
            )}
          </p>
          <p className="muted">
            {v.walk.mode === 'incremental' ? `Walked from ${v.walk.from} after #${v.walk.afterSeq}.` : 'Walked the whole chain.'} {v.walk.note}
          </p>
          <p data-testid="checkpoint-status">
            {!v.checkpoints.signed ? (
              <span className="badge badge-warn">Unsigned</span>
            ) : last ? (
              <>
                <span className="badge badge-ok">Signed</span> Last checkpoint: #{last.seq.toLocaleString()} signed {formatTime(last.signedAt)} ({ago(last.signedAt)}), key{' '}
                <code title={last.keyId}>{last.keyId.slice(0, 12)}…</code>; {v.checkpoints.valid}/{v.checkpoints.total} checkpoints valid
                {v.checkpoints.uncovered ? `, ${v.checkpoints.uncovered.toLocaleString()} newer events not yet covered` : ''}.
              </>
            ) : (
              <>
                <span className="badge">Signed</span> No checkpoint signed yet.
              </>
            )}
            {!v.checkpoints.signed && ' The broker runs without a signing key: no signed checkpoints.'}
          </p>
        </div>
      )}
    </section>
  );
}
