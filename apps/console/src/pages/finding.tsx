import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import type { components } from '@jit/client';
import { api } from '../api';
import { CloudBadge } from '../components/GrantBits';
import { ErrorState, fieldError, Loading } from '../components/states';
import { formatTime, usePageTitle } from '../format';
import { hasRole, useSession } from '../session';
import { principalNature, unusedText } from './discovery-bits';

type Detail = components['schemas']['DiscoveryFindingDetail'];
type Removal = components['schemas']['StandingRemoval'];

const OPEN_REMOVAL = new Set<Removal['state']>(['pending_approval', 'approved', 'applied']);

/** YAML-ish text of the proposed rules entry, as JSON is also valid YAML: one block to copy into the rules file. */
function ruleText(rule: unknown): string {
  return JSON.stringify(rule, null, 2);
}

/**
 * One finding (issue 16): who, what, where, since, last use and the unused part, why it counts as
 * privileged, the proposed rules entry to copy, and the removal flow (request, another admin's
 * approval or denial, restore).
 */
export function FindingPage() {
  usePageTitle('Finding');
  const { id = '' } = useParams();
  const detail = useQuery({
    queryKey: ['discovery-finding', id],
    queryFn: async ({ signal }) => (await api.api.GET('/v1/discovery/findings/{id}', { params: { path: { id } }, signal })).data!,
    // While a removal waits or is being applied, follow it.
    refetchInterval: (q) => (q.state.data?.removals.some((r) => r.state === 'approved') ? 2_000 : false),
    retry: false,
  });
  return (
    <section>
      <div className="page-header">
        <h1>Finding</h1>
        <Link to="/discovery">← All findings</Link>
      </div>
      {detail.isPending && <Loading what="the finding" />}
      <ErrorState error={detail.error} title="Could not read this finding" />
      {detail.data && (
        <>
          <Facts detail={detail.data} />
          <ProposedRule detail={detail.data} />
          <Removals detail={detail.data} />
        </>
      )}
    </section>
  );
}

function Facts({ detail }: { detail: Detail }) {
  const f = detail.finding;
  return (
    <div className="grid-2">
      <div className="card">
        <h2 className="card-title">
          <CloudBadge cloud={f.cloud} /> {f.access.name} {f.privileged && <span className="badge badge-danger">privileged</span>} <span className="badge">{f.status}</span>
        </h2>
        <dl className="facts">
          <dt>Who</dt>
          <dd>
            <span className="mono">{f.principal.displayName ? `${f.principal.displayName} (${f.principal.id})` : f.principal.id}</span> · {f.principal.kind.replace('_', ' ')} · {principalNature(f.principal.human)}
          </dd>
          <dt>What</dt>
          <dd className="mono">
            {f.access.type}: {f.access.name}
            {f.access.id && f.access.id !== f.access.name ? ` (${f.access.id})` : ''}
          </dd>
          <dt>Where</dt>
          <dd className="mono">{f.scope}</dd>
          <dt>Since</dt>
          <dd>{f.since ? formatTime(f.since) : 'not known'}</dd>
          <dt>Last use</dt>
          <dd>
            {f.lastUsedAt ? formatTime(f.lastUsedAt) : '—'} ({unusedText(f)})
          </dd>
          {f.usage && (
            <>
              <dt>Unused part</dt>
              <dd>
                {f.usage.unused.length ? f.usage.unused.join(', ') : 'none'}{' '}
                <span className="muted">
                  (used {f.usage.used.length} of {f.usage.granted.length} over {f.usage.periodDays} days)
                </span>
              </dd>
            </>
          )}
          <dt>First seen</dt>
          <dd>{formatTime(f.firstSeenAt)}</dd>
          <dt>Last seen</dt>
          <dd>{formatTime(f.lastSeenAt)}</dd>
        </dl>
      </div>
      <div className="card">
        <h2 className="card-title">Why privileged</h2>
        {f.reasons.length ? (
          <ul>
            {f.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        ) : (
          <p className="muted">No privilege criterion matched.</p>
        )}
        {f.access.actions && f.access.actions.length > 0 && (
          <p className="mono event-summary">actions: {f.access.actions.join(', ')}</p>
        )}
      </div>
    </div>
  );
}

function ProposedRule({ detail }: { detail: Detail }) {
  const p = detail.proposedRule;
  const text = ruleText(p.rule);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  };
  return (
    <div className="card">
      <div className="page-header">
        <h2 className="card-title">Proposed rule</h2>
        <button type="button" className="btn btn-small" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p className="muted">
        Add this entry under <code>{p.file}</code>&apos;s rules to make the access requestable just in time{p.narrowed ? ' (narrowed to what was used)' : ''}.{' '}
        {p.accepted ? 'The rules checker accepts it.' : 'The rules checker does not accept it as it is:'}
      </p>
      {p.issues.length > 0 && (
        <ul className="field-errors">
          {p.issues.map((i) => (
            <li key={i}>{i}</li>
          ))}
        </ul>
      )}
      <pre className="event-data" tabIndex={0} aria-label="Proposed rules entry">
        {text}
      </pre>
      {p.notes.length > 0 && (
        <ul className="muted">
          {p.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <p className="muted" role="status">
        {copied === 'yes' ? 'Copied.' : copied === 'no' ? 'The browser did not allow copying: select the text instead.' : ''}
      </p>
    </div>
  );
}

function Removals({ detail }: { detail: Detail }) {
  const session = useSession();
  const admin = hasRole(session, 'admin');
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['discovery-finding', detail.finding.id] });
  const [justification, setJustification] = useState('');
  const request = useMutation({
    mutationFn: async () => (await api.api.POST('/v1/discovery/findings/{id}/removal', { params: { path: { id: detail.finding.id } }, body: { justification } })).data!,
    onSuccess: () => {
      setJustification('');
      return refresh();
    },
  });
  const open = detail.removals.find((r) => OPEN_REMOVAL.has(r.state));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    request.mutate();
  };
  const error = fieldError(request.error, 'justification');
  return (
    <div className="card">
      <h2 className="card-title">Removal</h2>
      {detail.removals.length === 0 && <p className="muted">No removal was asked for.</p>}
      {detail.removals.map((r) => (
        <RemovalCard key={r.id} removal={r} onChange={refresh} />
      ))}
      {admin && !open && detail.finding.status === 'open' && detail.finding.removable && (
        <form onSubmit={onSubmit} aria-label="Request removal">
          <div className="field">
            <label htmlFor="removal-justification">Why remove this standing access (required)</label>
            <textarea
              id="removal-justification"
              rows={2}
              maxLength={1024}
              required
              value={justification}
              onChange={(e) => setJustification(e.target.value)}
              aria-invalid={!!error}
              aria-describedby={error ? 'removal-justification-error' : undefined}
            />
            {error && (
              <p className="error" id="removal-justification-error">
                {error}
              </p>
            )}
          </div>
          <ErrorState error={request.error} title="Could not request the removal" />
          <button type="submit" className="btn btn-danger" disabled={request.isPending || !justification.trim()}>
            {request.isPending ? 'Requesting…' : 'Request removal'}
          </button>
          <p className="muted">Another admin approves it before the access is taken away in the cloud.</p>
        </form>
      )}
      {admin && !detail.finding.removable && detail.finding.status === 'open' && <p className="muted">The broker cannot remove this assignment (the cloud does not let it); remove it in the cloud.</p>}
    </div>
  );
}

const REMOVAL_TONE: Record<Removal['state'], string> = {
  pending_approval: 'badge-warn',
  approved: 'badge-info',
  applied: 'badge-ok',
  failed: 'badge-danger',
  denied: '',
  restored: '',
};

function RemovalCard({ removal: r, onChange }: { removal: Removal; onChange: () => Promise<unknown> }) {
  const session = useSession();
  const admin = hasRole(session, 'admin');
  const [comment, setComment] = useState('');
  const act = useMutation({
    mutationFn: async (action: 'approve' | 'deny' | 'restore') => {
      const path = { params: { path: { id: r.id } } };
      if (action === 'approve') return (await api.api.POST('/v1/discovery/removals/{id}/approve', { ...path, body: comment.trim() ? { comment: comment.trim() } : {} })).data!;
      if (action === 'deny') return (await api.api.POST('/v1/discovery/removals/{id}/deny', { ...path, body: { comment: comment.trim() } })).data!;
      return (await api.api.POST('/v1/discovery/removals/{id}/restore', { ...path, body: comment.trim() ? { justification: comment.trim() } : {} })).data!;
    },
    onSuccess: () => {
      setComment('');
      return onChange();
    },
  });
  const mine = r.requestedBy === session.subject;
  const approvedByMe = r.approvals.some((a) => a.by === session.subject);
  const canDecide = r.state === 'pending_approval' && !mine && !approvedByMe;
  const canRestore = admin && r.state === 'applied';
  return (
    <div className="removal" aria-label={`Removal ${r.id}`}>
      <p>
        <span className={`badge ${REMOVAL_TONE[r.state]}`}>{r.state.replace('_', ' ')}</span> asked by <span className="mono">{r.requestedBy}</span> {formatTime(r.createdAt)}
        {r.origin !== 'api' && <span className="muted"> (from {r.origin})</span>}: “{r.justification}”
      </p>
      <p className="muted">
        Approvals {r.approvals.length}/{r.required}
        {r.approvals.map((a) => ` · ${a.by} ${formatTime(a.at)}${a.comment ? ` “${a.comment}”` : ''}`).join('')}
        {r.decidedBy && r.state === 'denied' && ` · denied by ${r.decidedBy}`}
        {r.appliedAt && ` · removed in the cloud ${formatTime(r.appliedAt)}`}
        {r.restoredAt && ` · restored ${formatTime(r.restoredAt)}`}
      </p>
      {r.lastError && <p className="notice notice-danger">{r.lastError}</p>}
      {r.state === 'pending_approval' && mine && <p className="muted">You asked for it: another admin decides.</p>}
      {(canDecide || canRestore) && (
        <div className="field">
          <label htmlFor={`removal-comment-${r.id}`}>{canRestore ? 'Why restore (optional)' : 'Comment (required to deny)'}</label>
          <input id={`removal-comment-${r.id}`} value={comment} maxLength={1024} onChange={(e) => setComment(e.target.value)} />
        </div>
      )}
      <ErrorState error={act.error} title="Could not decide the removal" />
      <div className="actions">
        {canDecide && (
          <>
            <button type="button" className="btn btn-primary" disabled={act.isPending} onClick={() => act.mutate('approve')}>
              Approve removal
            </button>
            <button type="button" className="btn btn-danger" disabled={act.isPending || !comment.trim()} onClick={() => act.mutate('deny')}>
              Deny
            </button>
          </>
        )}
        {canRestore && (
          <button type="button" className="btn" disabled={act.isPending} onClick={() => act.mutate('restore')}>
            Restore the access
          </button>
        )}
      </div>
    </div>
  );
}
