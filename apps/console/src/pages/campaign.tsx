import { useState, type FormEvent } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import type { ReviewBulkDecision, ReviewDecisionBody, ReviewItem } from '@jit/client';
import { api } from '../api';
import { Pager, useCursorPages } from '../components/Pager';
import { CloudBadge } from '../components/GrantBits';
import { Empty, ErrorState, fieldError, Loading } from '../components/states';
import { formatTime, usePageTitle } from '../format';
import { hasRole, useSession } from '../session';
import { CampaignProgress, CampaignState } from './reviews';

const PAGE = 100;
type Decision = ReviewDecisionBody['decision'];
const DECISIONS: [Decision, string][] = [
  ['keep', 'Keep'],
  ['remove', 'Remove'],
  ['narrow', 'Narrow'],
];

/** The links to a campaign's report (CSV, printable HTML) and rules patch: same-origin GETs the browser opens with the cookie. */
export function reviewLinks(id: string) {
  const base = `/v1/reviews/campaigns/${encodeURIComponent(id)}`;
  return { csv: `${base}/report?format=csv`, html: `${base}/report?format=html`, patch: `${base}/rules-patch` };
}

/** The decision body a form gives: narrowing only for `narrow`, and only what was filled in. */
function body(decision: Decision, justification: string, maxDuration: string): ReviewDecisionBody {
  return { decision, justification: justification.trim(), ...(decision === 'narrow' && maxDuration.trim() && { narrowing: { maxDuration: maxDuration.trim() } }) };
}

/**
 * One campaign for a reviewer (issue 17): the items they may decide, with who, what, where, since,
 * last use, requests in the period and the discovery finding; keep, remove or narrow each with a
 * justification, or the same decision on the items selected. Auditors get the report and patch.
 */
export function CampaignPage() {
  usePageTitle('Access review');
  const { id = '' } = useParams();
  const session = useSession();
  const auditor = hasRole(session, 'auditor', 'admin');
  const [show, setShow] = useState<'pending' | 'decided' | 'all'>('pending');
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const campaign = useQuery({ queryKey: ['review-campaign', id], queryFn: () => api.getReviewCampaign(id), retry: false });
  const items = useQuery({
    queryKey: ['review-items', id, show, cursor],
    queryFn: () => api.listReviewItems(id, { limit: PAGE, ...(show !== 'all' && { decided: show === 'decided' ? 'true' : 'false' }), ...(cursor && { cursor }) }),
    placeholderData: keepPreviousData,
    retry: false,
  });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  // The last bulk decision's outcome, kept when its items leave the list.
  const [result, setResult] = useState<ReviewBulkDecision | null>(null);
  const refused = result?.results.filter((r) => r.outcome === 'refused') ?? [];
  const decided = result ? result.results.length - refused.length : 0;
  const queryClient = useQueryClient();
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: ['review-items', id] });
    await queryClient.invalidateQueries({ queryKey: ['review-campaign', id] });
  };
  const links = reviewLinks(id);
  const open = campaign.data?.state === 'open';
  const decidable = (items.data?.items ?? []).filter((i) => i.decision === null && open);

  return (
    <section>
      <div className="page-header">
        <h1>Access review{campaign.data ? `: ${campaign.data.definition}` : ''}</h1>
        <Link to="/reviews">← All campaigns</Link>
      </div>
      {campaign.isPending && <Loading what="the campaign" />}
      <ErrorState error={campaign.error} title="Could not read this campaign" />
      {campaign.data && (
        <div className="card">
          <p>
            <CampaignState campaign={campaign.data} /> started {formatTime(campaign.data.startedAt)} by {campaign.data.startedBy}; due {formatTime(campaign.data.endsAt)}. Undecided items
            become <strong>{campaign.data.defaultDecision}</strong> when it ends. Usage counted from {formatTime(campaign.data.periodFrom)}.
          </p>
          {campaign.data.description && <p className="muted">{campaign.data.description}</p>}
          <CampaignProgress campaign={campaign.data} />
          {auditor && (
            <div className="actions" role="group" aria-label="Report and rules patch">
              <a className="btn btn-small" href={links.html} target="_blank" rel="noopener">
                Printable report (HTML)
              </a>
              <a className="btn btn-small" href={links.csv} download>
                Report CSV
              </a>
              <a className="btn btn-small" href={links.patch} download>
                Rules patch
              </a>
            </div>
          )}
        </div>
      )}
      <div className="actions" role="group" aria-label="Show items">
        {(['pending', 'decided', 'all'] as const).map((s) => (
          <button
            key={s}
            type="button"
            className={show === s ? 'btn btn-small btn-selected' : 'btn btn-small'}
            aria-pressed={show === s}
            onClick={() => {
              pages.reset();
              setSelected(new Set());
              setShow(s);
            }}
          >
            {s === 'pending' ? 'To decide' : s === 'decided' ? 'Decided' : 'All'}
          </button>
        ))}
      </div>
      {result && (
        <div role="status" className={refused.length ? 'notice notice-warn' : 'notice notice-ok'}>
          {decided} decided{refused.length ? `, ${refused.length} refused:` : '.'}
          {refused.length > 0 && (
            <ul>
              {refused.map((r) => (
                <li key={r.itemId}>
                  <span className="mono">{r.itemId.slice(0, 8)}</span>: {r.detail ?? r.status}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {items.isPending && <Loading what="items" />}
      <ErrorState error={items.error} title="Could not read the items" />
      {items.data && items.data.items.length === 0 && <Empty>{show === 'pending' ? 'Nothing left for you to decide in this campaign.' : 'No item here.'}</Empty>}
      {items.data && items.data.items.length > 0 && (
        <>
          {decidable.length > 0 && (
            <BulkDecision
              campaignId={id}
              selected={[...selected].filter((s) => decidable.some((i) => i.id === s))}
              onDone={async (r) => {
                setResult(r);
                setSelected(new Set());
                await refresh();
              }}
            />
          )}
          <ItemTable
            findings={auditor}
            items={items.data.items}
            busy={items.isFetching}
            selected={selected}
            decidable={new Set(decidable.map((i) => i.id))}
            onSelect={(ids, on) =>
              setSelected((s) => {
                const next = new Set(s);
                for (const i of ids) if (on) next.add(i);
                else next.delete(i);
                return next;
              })
            }
            onDecided={refresh}
          />
          <Pager pages={pages} nextCursor={items.data.nextCursor} labels={['Previous', 'Next']} status={`Page ${pages.page} · ${items.data.items.length} items`} />
        </>
      )}
    </section>
  );
}

function DecisionFields({ idPrefix, decision, setDecision, justification, setJustification, maxDuration, setMaxDuration, error }: {
  idPrefix: string;
  decision: Decision;
  setDecision: (d: Decision) => void;
  justification: string;
  setJustification: (s: string) => void;
  maxDuration: string;
  setMaxDuration: (s: string) => void;
  error: unknown;
}) {
  const jError = fieldError(error, 'justification');
  const nError = fieldError(error, 'narrowing');
  return (
    <div className="filters">
      <fieldset className="field decision-choice">
        <legend className="label">Decision</legend>
        {DECISIONS.map(([d, label]) => (
          <label key={d} className="inline">
            <input type="radio" name={`${idPrefix}-decision`} value={d} checked={decision === d} onChange={() => setDecision(d)} /> {label}
          </label>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor={`${idPrefix}-justification`}>Justification (required)</label>
        <input
          id={`${idPrefix}-justification`}
          value={justification}
          maxLength={2000}
          required
          onChange={(e) => setJustification(e.target.value)}
          aria-invalid={!!jError}
          aria-describedby={jError ? `${idPrefix}-justification-error` : undefined}
        />
        {jError && (
          <p className="error" id={`${idPrefix}-justification-error`}>
            {jError}
          </p>
        )}
      </div>
      {decision === 'narrow' && (
        <div className="field">
          <label htmlFor={`${idPrefix}-max`}>Shorter maximum duration (eligibility)</label>
          <input id={`${idPrefix}-max`} value={maxDuration} placeholder="PT1H" onChange={(e) => setMaxDuration(e.target.value)} aria-invalid={!!nError} />
          {nError && <p className="error">{nError}</p>}
        </div>
      )}
    </div>
  );
}

function BulkDecision({ campaignId, selected, onDone }: { campaignId: string; selected: string[]; onDone: (result: ReviewBulkDecision) => Promise<void> }) {
  const [decision, setDecision] = useState<Decision>('keep');
  const [justification, setJustification] = useState('');
  const [maxDuration, setMaxDuration] = useState('');
  const decide = useMutation({
    mutationFn: () => api.decideReviewItems(campaignId, { ...body(decision, justification, maxDuration), itemIds: selected }),
    onSuccess: async (r) => {
      setJustification('');
      await onDone(r);
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    decide.mutate();
  };
  return (
    <form className="card" onSubmit={onSubmit} aria-label="Decide the selected items">
      <h2 className="card-title">Decide the selected items ({selected.length})</h2>
      <DecisionFields idPrefix="bulk" {...{ decision, setDecision, justification, setJustification, maxDuration, setMaxDuration }} error={decide.error} />
      <ErrorState error={decide.error} title="Could not decide the items" />
      <button type="submit" className="btn btn-primary" disabled={decide.isPending || selected.length === 0 || !justification.trim()}>
        {decide.isPending ? 'Deciding…' : `${DECISIONS.find(([d]) => d === decision)![1]} ${selected.length} selected`}
      </button>
    </form>
  );
}

function ItemTable({ findings, items, busy, selected, decidable, onSelect, onDecided }: {
  /** Whether the user may open discovery's findings (admins and auditors). */
  findings: boolean;
  items: ReviewItem[];
  busy: boolean;
  selected: Set<string>;
  decidable: Set<string>;
  onSelect: (ids: string[], on: boolean) => void;
  onDecided: () => Promise<void>;
}) {
  const all = [...decidable];
  const allOn = all.length > 0 && all.every((i) => selected.has(i));
  return (
    <div className="table-wrap" aria-busy={busy}>
      <table className="responsive">
        <caption className="visually-hidden">Items to review</caption>
        <thead>
          <tr>
            <th scope="col">
              <input type="checkbox" aria-label="Select every item to decide on this page" checked={allOn} disabled={all.length === 0} onChange={(e) => onSelect(all, e.target.checked)} />
            </th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Where</th>
            <th scope="col">Since</th>
            <th scope="col">Last use</th>
            <th scope="col" className="num">Requests</th>
            <th scope="col">Decision</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => {
            const who = item.displayName ?? item.principal;
            return (
              <tr key={item.id}>
                <td data-label="Select">
                  {decidable.has(item.id) && <input type="checkbox" aria-label={`Select ${who}: ${item.access}`} checked={selected.has(item.id)} onChange={(e) => onSelect([item.id], e.target.checked)} />}
                </td>
                <td data-label="Who">
                  <span className="mono">{who}</span>
                  <div className="muted">
                    {item.principalKind}
                    {item.privileged && <span className="badge badge-danger">privileged</span>}
                  </div>
                </td>
                <td data-label="What">
                  <span className="mono">{item.access}</span>
                  <div className="muted">{item.source === 'standing' ? 'standing access' : `eligible under ${item.rule ?? 'a rule'}`}</div>
                  {item.findingId && findings && <Link to={`/discovery/findings/${item.findingId}`}>finding</Link>}
                </td>
                <td data-label="Where">
                  <CloudBadge cloud={item.cloud} /> <span className="mono event-summary">{item.scope}</span>
                </td>
                <td data-label="Since" className="nowrap">
                  {item.since ? formatTime(item.since) : '—'}
                </td>
                <td data-label="Last use" className="nowrap">
                  {item.lastUsedAt ? formatTime(item.lastUsedAt) : 'none seen'}
                </td>
                <td data-label="Requests" className="num">
                  {item.requested} <span className="muted">({item.granted} granted)</span>
                </td>
                <td data-label="Decision">{item.decision === null ? decidable.has(item.id) ? <ItemDecision item={item} onDecided={onDecided} /> : <span className="muted">pending</span> : <DecidedBits item={item} />}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function DecidedBits({ item }: { item: ReviewItem }) {
  return (
    <>
      <span className={item.decision === 'remove' ? 'badge badge-danger' : item.decision === 'keep' ? 'badge badge-ok' : 'badge badge-warn'}>{item.decision}</span>
      {item.defaulted && <span className="muted"> (default)</span>}
      <div className="muted">
        {item.decidedBy} {formatTime(item.decidedAt)}
        {item.justification && ` “${item.justification}”`}
      </div>
      {item.applied && <div className="muted">{item.applied}{item.appliedAt ? ` ${formatTime(item.appliedAt)}` : ''}</div>}
      {item.applyError && <div className="badge badge-danger">{item.applyError}</div>}
    </>
  );
}

function ItemDecision({ item, onDecided }: { item: ReviewItem; onDecided: () => Promise<void> }) {
  const [decision, setDecision] = useState<Decision>('keep');
  const [justification, setJustification] = useState('');
  const [maxDuration, setMaxDuration] = useState('');
  const decide = useMutation({ mutationFn: () => api.decideReviewItem(item.id, body(decision, justification, maxDuration)), onSuccess: onDecided });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    decide.mutate();
  };
  return (
    <details>
      <summary>Decide…</summary>
      <form onSubmit={onSubmit} aria-label={`Decide ${item.displayName ?? item.principal}: ${item.access}`}>
        <DecisionFields idPrefix={`item-${item.id}`} {...{ decision, setDecision, justification, setJustification, maxDuration, setMaxDuration }} error={decide.error} />
        <ErrorState error={decide.error} title="Could not decide" />
        <button type="submit" className="btn btn-small btn-primary" disabled={decide.isPending || !justification.trim()}>
          Decide
        </button>
      </form>
    </details>
  );
}
