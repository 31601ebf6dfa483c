import { useState, type FormEvent } from 'react';
import { Pager, useCursorPages } from '../components/Pager';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import type { ListGrantsQuery } from '@jit/client';
import { api } from '../api';
import { useApiSchema } from '../schema';
import { GrantTable } from './my-grants';
import { Empty, ErrorState, fieldError, Loading } from '../components/states';
import { isoToLocal, localToIso, usePageTitle, wideScreen } from '../format';
import { FilterActions } from '../components/FilterActions';

const KEYS = ['cloud', 'state', 'requester', 'principal', 'from', 'to'] as const;
type Key = (typeof KEYS)[number];
type Filters = Partial<Record<Key, string>>;
const STATES = ['pending_approval', 'provisioning', 'active', 'revoking', 'expired', 'revoked', 'denied', 'failed', 'revoke_failed'];
const PAGE = 50;

/** Every grant across clouds (GET /v1/grants), filtered on the server and read a page at a time. */
export function AllGrantsPage() {
  usePageTitle('All grants');
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(KEYS.flatMap((k) => (params.get(k) ? [[k, params.get(k)!]] : []))) as Filters;
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const grants = useQuery({
    queryKey: ['grants', 'all', filters, cursor],
    queryFn: ({ signal }) => api.listGrants({ ...(filters as ListGrantsQuery), limit: PAGE, ...(cursor && { cursor }) }, { signal }),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
    retry: false,
  });
  const apply = (next: Filters) => {
    pages.reset();
    setParams(Object.fromEntries(Object.entries(next).filter(([, v]) => v)));
  };
  return (
    <section>
      <h1>Grants</h1>
      <GrantFilters key={params.toString()} initial={filters} onApply={apply} error={grants.error} />
      {grants.isPending && <Loading what="grants" />}
      <ErrorState error={grants.error} title="Could not list grants" />
      {grants.data && grants.data.items.length === 0 && <Empty>No grant matches these filters.</Empty>}
      {grants.data && grants.data.items.length > 0 && (
        <>
          <GrantTable grants={grants.data.items} showRequester caption="Grants, newest first" />
          <Pager pages={pages} nextCursor={grants.data.nextCursor} labels={['Newer', 'Older']} status={`Page ${pages.page}`} />
        </>
      )}
    </section>
  );
}

function GrantFilters({ initial, onApply, error }: { initial: Filters; onApply: (f: Filters) => void; error: unknown }) {
  const schema = useApiSchema();
  const [form, setForm] = useState<Filters>({ ...initial, from: isoToLocal(initial.from), to: isoToLocal(initial.to) });
  const set = (k: Key, v: string) => setForm((f) => ({ ...f, [k]: v }));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    onApply({ ...form, from: localToIso(form.from ?? ''), to: localToIso(form.to ?? '') });
  };
  const text = (k: Key, label: string, placeholder: string) => (
    <div className="field">
      <label htmlFor={`g-${k}`}>{label}</label>
      <input id={`g-${k}`} value={form[k] ?? ''} onChange={(e) => set(k, e.target.value)} placeholder={placeholder} aria-invalid={!!fieldError(error, k)} />
    </div>
  );
  return (
    <details className="card filters-card" open={wideScreen() || Object.keys(initial).length > 0}>
      <summary className="filters-summary">Filters{Object.keys(initial).length ? ` (${Object.keys(initial).length} applied)` : ''}</summary>
      <form onSubmit={onSubmit} aria-label="Filter grants">
        <div className="filters">
          <div className="field">
            <label htmlFor="g-cloud">Cloud</label>
            <select id="g-cloud" value={form.cloud ?? ''} onChange={(e) => set('cloud', e.target.value)}>
              <option value="">All clouds</option>
              {(schema.data?.clouds ?? ['aws', 'azure', 'gcp']).map((c) => (
                <option key={c} value={c}>
                  {c.toUpperCase()}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="g-state">State</label>
            <select id="g-state" value={form.state ?? ''} onChange={(e) => set('state', e.target.value)}>
              <option value="">All states</option>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {s.replace(/_/g, ' ')}
                </option>
              ))}
            </select>
          </div>
          {text('requester', 'Requester', 'sandbox-dev')}
          {text('principal', 'Principal', 'user:dev@example.com')}
          <div className="field">
            <label htmlFor="g-from">Requested from</label>
            <input id="g-from" type="datetime-local" value={form.from ?? ''} onChange={(e) => set('from', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="g-to">Requested before</label>
            <input id="g-to" type="datetime-local" value={form.to ?? ''} onChange={(e) => set('to', e.target.value)} />
          </div>
        </div>
        <FilterActions
          onClear={() => {
            setForm({});
            onApply({});
          }}
        />
      </form>
    </details>
  );
}
