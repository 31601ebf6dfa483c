import { Pager, useCursorPages } from '../components/Pager';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import type { AuditEvent, Grant } from '@jit/client';
import { api } from '../api';
import { hasRole, useSession } from '../session';
import { approvalNeeds, CloudBadge, StateBadge, TargetFacts } from '../components/GrantBits';
import { RevokeButton } from '../components/RevokeButton';
import { Empty, ErrorState, Loading } from '../components/states';
import { countdown, formatTime, humanDuration, TERMINAL_STATES, useNow, usePageTitle } from '../format';
import { typeTone } from './audit';

/** One grant: its facts, its approvals, and (for auditors) its full audit history. */
export function GrantPage() {
  usePageTitle('Grant');
  const { id = '' } = useParams();
  const session = useSession();
  const location = useLocation();
  const justRequested = (location.state as { justRequested?: boolean } | null)?.justRequested === true;
  const grant = useQuery({
    queryKey: ['grant', id],
    queryFn: ({ signal }) => api.getGrant(id, { signal }),
    // Until it ends, a grant moves on its own (approved, provisioned, expired): follow it.
    refetchInterval: (q) => (q.state.data && TERMINAL_STATES.has(q.state.data.state) ? false : 3_000),
    retry: false,
  });
  const auditor = hasRole(session, 'auditor', 'admin');
  return (
    <section>
      <div className="page-header">
        <h1>Grant</h1>
        <span className="mono muted">{id}</span>
      </div>
      {grant.isPending && <Loading what="the grant" />}
      <ErrorState error={grant.error} title="Could not read this grant" />
      {grant.data && (
        <>
          {justRequested && (
            <p className="notice notice-ok" role="status">
              Request sent. {grant.data.state === 'pending_approval' ? 'It waits for approval; this page follows it.' : null}
            </p>
          )}
          <GrantFacts grant={grant.data} mine={grant.data.requestedBy === session.subject} />
          {auditor ? <GrantHistory grantId={id} /> : <ApprovalList grant={grant.data} />}
        </>
      )}
    </section>
  );
}

function GrantFacts({ grant, mine }: { grant: Grant; mine: boolean }) {
  const now = useNow(1000);
  const navigate = useNavigate();
  const canRevoke = mine && (grant.state === 'active' || grant.state === 'pending_approval' || grant.state === 'provisioning');
  return (
    <div className="grid-2">
      <div className="card">
        <div className="page-header">
          <h2 style={{ marginTop: 0 }}>
            <StateBadge state={grant.state} /> <CloudBadge cloud={grant.cloud} />
          </h2>
          {grant.state === 'active' && grant.expiresAt && (
            <p className="nowrap">
              Expires in{' '}
              <span className="countdown" role="timer">
                {countdown(grant.expiresAt, now)}
              </span>
            </p>
          )}
        </div>
        <dl className="facts">
          <dt>Requested by</dt>
          <dd className="mono">{grant.requestedBy}</dd>
          <dt>Principal</dt>
          <dd className="mono">
            {grant.principal.type}: {grant.principal.id}
          </dd>
          <dt>Duration</dt>
          <dd>{humanDuration(grant.duration)}</dd>
          <dt>Justification</dt>
          <dd>{grant.justification ?? <span className="muted">none</span>}</dd>
          <dt>Ticket</dt>
          <dd>{grant.ticket ?? <span className="muted">none</span>}</dd>
          <dt>Rule</dt>
          <dd>
            {grant.decision ? (
              <>
                <code>{grant.decision.rule}</code> · {grant.decision.mode === 'approvals' ? approvalNeeds(grant.decision) : grant.decision.mode.replace('_', '-')}
              </>
            ) : (
              '—'
            )}
          </dd>
          <dt>Requested</dt>
          <dd>{formatTime(grant.createdAt)}</dd>
          <dt>Started</dt>
          <dd>{formatTime(grant.startsAt)}</dd>
          <dt>Expires</dt>
          <dd>{formatTime(grant.expiresAt)}</dd>
          {grant.endedAt && (
            <>
              <dt>Ended</dt>
              <dd>
                {formatTime(grant.endedAt)} {grant.endReason && <span className="muted">({grant.endReason})</span>}
              </dd>
            </>
          )}
          {grant.state === 'pending_approval' && grant.approvalDeadline && (
            <>
              <dt>Approval deadline</dt>
              <dd>{formatTime(grant.approvalDeadline)}</dd>
            </>
          )}
        </dl>
        {mine && (
          <div className="actions grant-actions">
            {canRevoke && <RevokeButton grant={grant} label={grant.state === 'pending_approval' ? 'Withdraw request' : 'Revoke now'} />}
            <button type="button" className="btn btn-small" onClick={() => void navigate('/request', { state: { template: grant } })}>
              Request again
            </button>
          </div>
        )}
      </div>
      <div className="card">
        <h2 style={{ marginTop: 0 }}>Target</h2>
        <TargetFacts target={grant.target} />
      </div>
    </div>
  );
}

function ApprovalList({ grant }: { grant: Grant }) {
  return (
    <>
      <h2>Approvals</h2>
      {grant.approvals.length === 0 ? (
        <Empty>No approval or denial recorded.</Empty>
      ) : (
        <ul className="history card">
          {grant.approvals.map((a) => (
            <li key={`${a.approver}${a.at}`}>
              <span className={`badge ${a.decision === 'approved' ? 'badge-ok' : 'badge-danger'}`}>{a.decision}</span> <span className="mono">{a.approver}</span> · {formatTime(a.at)}
              {a.comment ? <> — “{a.comment}”</> : null}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** Every audit event of the grant (GET /v1/audit?grantId=), in order, each with its data. */
function GrantHistory({ grantId }: { grantId: string }) {
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const events = useQuery({
    queryKey: ['audit', 'grant', grantId, cursor],
    queryFn: () => api.listAuditEvents({ grantId, limit: 100, ...(cursor && { cursor }) }),
    placeholderData: keepPreviousData,
    refetchInterval: 5_000,
  });
  return (
    <>
      <div className="page-header">
        <h2>History</h2>
        <Link to={`/audit`}>Audit log →</Link>
      </div>
      {events.isPending && <Loading what="the grant's history" />}
      <ErrorState error={events.error} title="Could not read the grant's history" />
      {events.data && events.data.items.length === 0 && <Empty>No event recorded yet.</Empty>}
      {events.data && events.data.items.length > 0 && (
        <ol className="timeline">
          {events.data.items.map((e) => (
            <TimelineItem key={e.id} event={e} />
          ))}
        </ol>
      )}
      {events.data && (pages.page > 1 || events.data.nextCursor) && <Pager pages={pages} nextCursor={events.data.nextCursor} labels={['Earlier', 'Later']} />}
    </>
  );
}

function TimelineItem({ event }: { event: AuditEvent }) {
  const data = Object.keys(event.data).length ? JSON.stringify(event.data, null, 2) : null;
  return (
    <li className="timeline-item">
      <div className="timeline-head">
        <span className={`badge ${typeTone(event.type)}`}>{event.type}</span>
        <span className="nowrap">{formatTime(event.occurredAt)}</span>
        <span className="muted">
          by <span className="mono">{event.actor}</span> · #{event.seq}
        </span>
      </div>
      {data && (
        <details>
          <summary>Details</summary>
          <pre className="event-data">{data}</pre>
          <p className="muted mono hash">hash {event.hash}</p>
        </details>
      )}
    </li>
  );
}
