import { useState } from 'react';
import { Pager, useCursorPages } from '../components/Pager';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { Grant } from '@jit/client';
import { api } from '../api';
import { approvalNeeds, CloudBadge, StateBadge, TargetFacts } from '../components/GrantBits';
import { Empty, ErrorState, Loading } from '../components/states';
import { ago, countdown, formatTime, humanDuration, targetSummary, useNow, usePageTitle } from '../format';

/**
 * What the signed-in approver can decide now (GET /v1/grants?awaiting=me), each request with
 * everything needed to decide it on one screen. Polled every few seconds, so new requests appear
 * and decided ones leave without a reload.
 */
export function InboxPage() {
  usePageTitle('Approvals');
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const inbox = useQuery({
    queryKey: ['grants', 'inbox', cursor],
    queryFn: ({ signal }) => api.listGrants({ awaiting: 'me', limit: 50, ...(cursor && { cursor }) }, { signal }),
    refetchInterval: 4_000,
    refetchIntervalInBackground: false,
  });
  const count = inbox.data?.items.length ?? 0;
  return (
    <section>
      <div className="page-header">
        <h1>Approvals</h1>
        <p className="muted" aria-live="polite">
          {inbox.data ? `${count}${inbox.data.nextCursor || pages.page > 1 ? '+' : ''} waiting for you` : ''}
          {inbox.isFetching && !inbox.isPending ? ' · updating' : ''}
        </p>
      </div>
      {inbox.isPending && <Loading what="your inbox" />}
      <ErrorState error={inbox.error} title="Could not read your inbox" />
      {inbox.data && count === 0 && <Empty>Nothing waits for your decision. New requests appear here on their own.</Empty>}
      <div className="stack">
        {inbox.data?.items.map((g) => (
          <InboxItem key={g.id} grant={g} />
        ))}
      </div>
      {inbox.data && (pages.page > 1 || inbox.data.nextCursor) && <Pager pages={pages} nextCursor={inbox.data.nextCursor} labels={['Previous 50', 'Next 50']} />}
    </section>
  );
}

function InboxItem({ grant }: { grant: Grant }) {
  const queryClient = useQueryClient();
  const now = useNow(1000);
  const [comment, setComment] = useState('');
  const [commentError, setCommentError] = useState<string | null>(null);
  const decide = useMutation({
    mutationFn: (decision: 'approve' | 'deny') =>
      decision === 'approve' ? api.approveGrant(grant.id, comment.trim() ? { comment: comment.trim() } : {}) : api.denyGrant(grant.id, { comment: comment.trim() }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['grants'] }),
  });
  const titleId = `req-${grant.id}`;
  const commentId = `comment-${grant.id}`;
  const decision = grant.decision;
  const approved = grant.approvals.filter((a) => a.decision === 'approved');
  const onDeny = () => {
    if (!comment.trim()) {
      setCommentError('A denial needs a comment: the requester reads it.');
      document.getElementById(commentId)?.focus();
      return;
    }
    setCommentError(null);
    decide.mutate('deny');
  };
  return (
    <article className="card inbox-item" aria-labelledby={titleId}>
      <header>
        <h2 id={titleId}>
          <span className="mono">{grant.requestedBy}</span> requests <CloudBadge cloud={grant.cloud} /> <code>{grant.target.kind}</code> for {humanDuration(grant.duration)}
        </h2>
        {grant.approvalDeadline && (
          <span className="muted nowrap">
            Decide within <span className="countdown">{countdown(grant.approvalDeadline, now)}</span>
          </span>
        )}
      </header>
      <div className="grid-2">
        <div className="stack">
          <dl className="facts">
            <dt>Requester</dt>
            <dd className="mono">{grant.requestedBy}</dd>
            <dt>Principal</dt>
            <dd className="mono">
              {grant.principal.type}: {grant.principal.id}
            </dd>
            <dt>Justification</dt>
            <dd>{grant.justification ?? <span className="muted">none given</span>}</dd>
            <dt>Ticket</dt>
            <dd>{grant.ticket ?? <span className="muted">none</span>}</dd>
            <dt>Rule</dt>
            <dd>
              {decision ? (
                <>
                  <code>{decision.rule}</code> — needs {approvalNeeds(decision)}
                </>
              ) : (
                '—'
              )}
            </dd>
            <dt>Requested</dt>
            <dd>
              {formatTime(grant.createdAt)} <span className="muted">({ago(grant.createdAt, now)})</span>
            </dd>
            <dt>Approvals so far</dt>
            <dd>
              {approved.length === 0 ? (
                <span className="muted">none yet</span>
              ) : (
                <ul className="plain">
                  {approved.map((a) => (
                    <li key={`${a.approver}${a.at}`}>
                      <span className="mono">{a.approver}</span> {a.groups?.length ? <span className="muted">({a.groups.join(', ')})</span> : null} · {formatTime(a.at)}
                      {a.comment ? <> — “{a.comment}”</> : null}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </dl>
          <h3>Target</h3>
          <TargetFacts target={grant.target} />
        </div>
        <div className="stack">
          <RecentHistory requester={grant.requestedBy} exclude={grant.id} />
          <div className="field">
            <label htmlFor={commentId}>Comment</label>
            <textarea
              id={commentId}
              rows={2}
              value={comment}
              onChange={(e) => setComment(e.target.value)}
              maxLength={1024}
              aria-invalid={!!commentError}
              aria-describedby={commentError ? `${commentId}-error` : `${commentId}-help`}
            />
            {commentError ? (
              <p id={`${commentId}-error`} className="error">
                {commentError}
              </p>
            ) : (
              <p id={`${commentId}-help`} className="help">
                Optional for an approval, required for a denial.
              </p>
            )}
          </div>
          <ErrorState error={decide.error} title="Not recorded" />
          <div className="actions">
            <button type="button" className="btn btn-ok" disabled={decide.isPending} onClick={() => decide.mutate('approve')}>
              Approve
            </button>
            <button type="button" className="btn btn-danger" disabled={decide.isPending} onClick={onDeny}>
              Deny
            </button>
            <Link className="btn btn-quiet" to={`/grants/${grant.id}`}>
              Details
            </Link>
          </div>
        </div>
      </div>
    </article>
  );
}

/** The requester's last few grants (GET /v1/grants?requester=), so a pattern shows at a glance. */
function RecentHistory({ requester, exclude }: { requester: string; exclude: string }) {
  const history = useQuery({
    queryKey: ['grants', 'history', requester],
    queryFn: ({ signal }) => api.listGrants({ requester, limit: 6 }, { signal }),
    staleTime: 30_000,
  });
  const items = history.data?.items.filter((g) => g.id !== exclude).slice(0, 5) ?? [];
  return (
    <div>
      <h3 style={{ marginTop: 0 }}>Recent requests by {requester}</h3>
      {history.isPending && <Loading what="history" />}
      <ErrorState error={history.error} title="History unavailable" />
      {history.data && items.length === 0 && <p className="muted">No earlier requests.</p>}
      {items.length > 0 && (
        <ul className="history">
          {items.map((g) => (
            <li key={g.id}>
              <StateBadge state={g.state} /> <Link to={`/grants/${g.id}`} className="mono">{targetSummary(g.target)}</Link> <span className="muted">· {formatTime(g.createdAt)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
