import { useState, type FormEvent } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useSearchParams } from 'react-router';
import type { ReviewCampaign } from '@jit/client';
import { api } from '../api';
import { Pager, useCursorPages } from '../components/Pager';
import { Empty, ErrorState, Loading } from '../components/states';
import { formatTime, usePageTitle } from '../format';
import { hasRole, useSession } from '../session';

const PAGE = 50;

/** Decided of total as a native progress bar with its words (no inline style: the console's CSP allows none). */
export function CampaignProgress({ campaign }: { campaign: ReviewCampaign }) {
  const { decided, total } = campaign.counts;
  const label = `${decided.toLocaleString()} of ${total.toLocaleString()} decided`;
  return (
    <span className="campaign-progress">
      <progress max={Math.max(total, 1)} value={total ? decided : 1} aria-label={`${campaign.definition}: ${label}`} />
      <span className="muted">{label}</span>
    </span>
  );
}

export function CampaignState({ campaign }: { campaign: ReviewCampaign }) {
  return (
    <>
      <span className={campaign.state === 'open' ? 'badge badge-info' : 'badge'}>{campaign.state}</span>
      {campaign.overdue && <span className="badge badge-danger">overdue</span>}
    </>
  );
}

/**
 * Access review campaigns (issue 17), newest first: state, due date, progress, overdue. A reviewer
 * opens one to decide the items assigned to them.
 */
export function ReviewsPage() {
  usePageTitle('Access reviews');
  const [params, setParams] = useSearchParams();
  const state = params.get('state') === 'open' || params.get('state') === 'closed' ? (params.get('state') as 'open' | 'closed') : undefined;
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const campaigns = useQuery({
    queryKey: ['review-campaigns', state, cursor],
    queryFn: () => api.listReviewCampaigns({ limit: PAGE, ...(state && { state }), ...(cursor && { cursor }) }),
    placeholderData: keepPreviousData,
    retry: false,
  });
  return (
    <section>
      <div className="page-header">
        <h1>Access reviews</h1>
        <div className="field">
          <label htmlFor="campaign-state">Campaigns</label>
          <select
            id="campaign-state"
            value={state ?? ''}
            onChange={(e) => {
              pages.reset();
              setParams(e.target.value ? { state: e.target.value } : {});
            }}
          >
            <option value="">All</option>
            <option value="open">Open</option>
            <option value="closed">Closed</option>
          </select>
        </div>
      </div>
      {hasRole(useSession(), 'admin') && <StartCampaign />}
      {campaigns.isPending && <Loading what="campaigns" />}
      <ErrorState error={campaigns.error} title="Could not read the campaigns" />
      {campaigns.data && campaigns.data.items.length === 0 && <Empty>No review campaign{state ? ` is ${state}` : ' has started yet'}.</Empty>}
      {campaigns.data && campaigns.data.items.length > 0 && (
        <>
          <div className="table-wrap" aria-busy={campaigns.isFetching}>
            <table className="responsive">
              <caption className="visually-hidden">Review campaigns, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Campaign</th>
                  <th scope="col">State</th>
                  <th scope="col">Started</th>
                  <th scope="col">Due</th>
                  <th scope="col">Progress</th>
                </tr>
              </thead>
              <tbody>
                {campaigns.data.items.map((c) => (
                  <tr key={c.id}>
                    <td data-label="Campaign">
                      <Link to={`/reviews/${c.id}`}>{c.definition}</Link>
                      {c.description && <div className="muted">{c.description}</div>}
                    </td>
                    <td data-label="State">
                      <CampaignState campaign={c} />
                    </td>
                    <td data-label="Started" className="nowrap">
                      {formatTime(c.startedAt)}
                    </td>
                    <td data-label="Due" className="nowrap">
                      {formatTime(c.endsAt)}
                    </td>
                    <td data-label="Progress">
                      <CampaignProgress campaign={c} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager pages={pages} nextCursor={campaigns.data.nextCursor} labels={['Newer', 'Older']} status={`Page ${pages.page}`} />
        </>
      )}
    </section>
  );
}

/** Admins start a campaign now from one of its definitions (the reviews file's, or defined through the API). */
function StartCampaign() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const definitions = useQuery({ queryKey: ['review-definitions'], queryFn: async () => (await api.api.GET('/v1/reviews/definitions')).data!, retry: false });
  const [name, setName] = useState('');
  const start = useMutation({
    mutationFn: (definition: string) => api.startReviewCampaign(definition),
    onSuccess: async (c) => {
      await queryClient.invalidateQueries({ queryKey: ['review-campaigns'] });
      void navigate(`/reviews/${c.id}`);
    },
  });
  const items = definitions.data?.items ?? [];
  if (definitions.isSuccess && items.length === 0) return null;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (name) start.mutate(name);
  };
  return (
    <form className="card" onSubmit={onSubmit} aria-label="Start a campaign">
      <div className="filters">
        <div className="field">
          <label htmlFor="start-definition">Start a campaign now</label>
          <select id="start-definition" value={name} onChange={(e) => setName(e.target.value)}>
            <option value="">Choose a definition…</option>
            {items.map((d) => (
              <option key={d.name} value={d.name}>
                {d.name}
                {d.description ? ` (${d.description})` : ''}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorState error={definitions.error ?? start.error} title="Could not start the campaign" />
      <button type="submit" className="btn btn-primary btn-small" disabled={!name || start.isPending}>
        {start.isPending ? 'Starting…' : 'Start'}
      </button>
    </form>
  );
}
