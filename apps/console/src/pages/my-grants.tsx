import { useState } from 'react';
import { Pager, useCursorPages } from '../components/Pager';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { Grant, ListGrantsQuery } from '@jit/client';
import { api } from '../api';
import { useSession } from '../session';
import { CloudBadge, StateBadge } from '../components/GrantBits';
import { RevokeButton } from '../components/RevokeButton';
import { Empty, ErrorState, Loading } from '../components/states';
import { countdown, formatTime, humanDuration, targetSummary, useNow, usePageTitle } from '../format';

const FILTERS: { value: string; label: string; states?: ListGrantsQuery['state'] }[] = [
  { value: 'active', label: 'Active', states: 'active' },
  { value: 'pending', label: 'Waiting for approval', states: 'pending_approval' },
  { value: 'all', label: 'All' },
];

const PAGE = 25;

/** The signed-in requester's grants, newest first, a page at a time, with a live countdown and revoke. */
export function MyGrantsPage() {
  usePageTitle('My grants');
  const session = useSession();
  const [filter, setFilter] = useState('all');
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const state = FILTERS.find((f) => f.value === filter)?.states;
  const grants = useQuery({
    queryKey: ['grants', 'mine', session.subject, filter, cursor],
    queryFn: ({ signal }) => api.listGrants({ requester: session.subject, limit: PAGE, ...(state && { state }), ...(cursor && { cursor }) }, { signal }),
    placeholderData: keepPreviousData,
    // Grants change state on their own (approved, active, expired): keep the list current.
    refetchInterval: 5_000,
  });

  return (
    <section>
      <div className="page-header">
        <h1>My grants</h1>
        <Link className="btn btn-primary" to="/request">
          Request access
        </Link>
      </div>
      <div className="toolbar" role="group" aria-label="Show">
        {FILTERS.map((f) => (
          <button
            key={f.value}
            type="button"
            className={`btn btn-small ${filter === f.value ? 'btn-selected' : 'btn-quiet'}`}
            aria-pressed={filter === f.value}
            onClick={() => {
              setFilter(f.value);
              pages.reset();
            }}
          >
            {f.label}
          </button>
        ))}
      </div>
      {grants.isPending && <Loading what="your grants" />}
      <ErrorState error={grants.error} title="Could not list your grants" />
      {grants.data && grants.data.items.length === 0 && (
        <Empty>
          No grants here yet. <Link to="/request">Request access</Link>.
        </Empty>
      )}
      {grants.data && grants.data.items.length > 0 && (
        <>
          <GrantTable grants={grants.data.items} />
          <Pager pages={pages} nextCursor={grants.data.nextCursor} labels={['Newer', 'Older']} status={`Page ${pages.page}`} />
        </>
      )}
    </section>
  );
}

/** Grants as a table with a live countdown; `showRequester` for lists of other people's grants. */
export function GrantTable({ grants, showRequester = false, caption = 'Your grants' }: { grants: Grant[]; showRequester?: boolean; caption?: string }) {
  const now = useNow(1000);
  return (
    <div className="table-wrap">
      <table className="responsive">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">Cloud</th>
            {showRequester && <th scope="col">Requester</th>}
            <th scope="col">Target</th>
            <th scope="col">Principal</th>
            <th scope="col">Requested</th>
            <th scope="col">Time left</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {grants.map((g) => (
            <tr key={g.id}>
              <td data-label="State">
                <StateBadge state={g.state} />
              </td>
              <td data-label="Cloud">
                <CloudBadge cloud={g.cloud} />
              </td>
              {showRequester && (
                <td data-label="Requester" className="mono">
                  {g.requestedBy}
                </td>
              )}
              <td data-label="Target">
                <Link to={`/grants/${g.id}`} className="mono">
                  {targetSummary(g.target)}
                </Link>
              </td>
              <td data-label="Principal" className="mono">
                {g.principal.id}
              </td>
              <td data-label="Requested" className="nowrap">
                {formatTime(g.createdAt)}
              </td>
              <td data-label="Time left" className="nowrap">
                {g.state === 'active' && g.expiresAt ? (
                  <span className="countdown" role="timer" aria-label={`expires at ${formatTime(g.expiresAt)}`}>
                    {countdown(g.expiresAt, now)}
                  </span>
                ) : g.state === 'pending_approval' ? (
                  <span className="muted">{humanDuration(g.duration)} once approved</span>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td data-label="">{!showRequester && (g.state === 'active' || g.state === 'pending_approval' || g.state === 'provisioning') && <RevokeButton grant={g} label={g.state === 'pending_approval' ? 'Withdraw' : 'Revoke'} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
