import { useState, type FormEvent } from 'react';
import { Pager, useCursorPages } from '../components/Pager';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import type { AuditEvent, AuditQuery } from '@jit/client';
import { api, auditExportUrl } from '../api';
import { useApiSchema } from '../schema';
import { CloudBadge } from '../components/GrantBits';
import { VerificationPanel } from '../components/VerificationPanel';
import { Empty, ErrorState, fieldError, Loading } from '../components/states';
import { formatTime, isoToLocal, localToIso, usePageTitle, wideScreen } from '../format';
import { FilterActions } from '../components/FilterActions';

const FILTER_KEYS = ['cloud', 'principal', 'actor', 'type', 'from', 'to'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
type Filters = Partial<Record<FilterKey, string>>;
const PAGE = 50;

/** The filters as the URL says them (so a filtered view can be shared and reloaded). */
function filtersOf(params: URLSearchParams): Filters {
  return Object.fromEntries(FILTER_KEYS.flatMap((k) => (params.get(k) ? [[k, params.get(k)!]] : [])));
}

/**
 * The cross-cloud audit timeline: the API's filters (cloud, principal, actor, type, time range),
 * server paging by cursor (a page at a time, never everything), export of exactly the filters
 * applied, and the chain's verification with the last signed checkpoint.
 */
export function AuditPage() {
  usePageTitle('Audit log');
  const [params, setParams] = useSearchParams();
  const filters = filtersOf(params);
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const query: AuditQuery = { ...(filters as AuditQuery), limit: PAGE, ...(cursor && { cursor }) };
  const events = useQuery({
    queryKey: ['audit', filters, cursor],
    queryFn: () => api.listAuditEvents(query),
    placeholderData: keepPreviousData,
    retry: false,
  });

  const apply = (next: Filters) => {
    pages.reset();
    setParams(Object.fromEntries(Object.entries(next).filter(([, v]) => v)));
  };

  return (
    <section>
      <div className="page-header">
        <h1>Audit log</h1>
        <ExportLinks filters={filters} />
      </div>
      <VerificationPanel />
      <FilterForm key={params.toString()} initial={filters} onApply={apply} error={events.error} />
      {events.isPending && <Loading what="audit events" />}
      <ErrorState error={events.error} title="Could not read the audit log" />
      {events.data && events.data.items.length === 0 && <Empty>No audit event matches these filters.</Empty>}
      {events.data && events.data.items.length > 0 && (
        <>
          <EventTable events={events.data.items} busy={events.isFetching} />
          <Pager pages={pages} nextCursor={events.data.nextCursor} labels={['Previous', 'Next']} status={`Page ${pages.page} · ${events.data.items.length} events`} />
        </>
      )}
    </section>
  );
}

function ExportLinks({ filters }: { filters: Filters }) {
  const described = Object.keys(filters).length ? 'the filtered events' : 'the whole log';
  return (
    <div className="actions" role="group" aria-label={`Export ${described}`}>
      <a className="btn btn-small" href={auditExportUrl('csv', filters)} download>
        Export CSV
      </a>
      <a className="btn btn-small" href={auditExportUrl('jsonl', filters)} download>
        Export JSONL
      </a>
    </div>
  );
}

function FilterForm({ initial, onApply, error }: { initial: Filters; onApply: (f: Filters) => void; error: unknown }) {
  const schema = useApiSchema();
  const [form, setForm] = useState<Filters>({ ...initial, from: isoToLocal(initial.from), to: isoToLocal(initial.to) });
  const set = (k: FilterKey, v: string) => setForm((f) => ({ ...f, [k]: v }));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    onApply({ ...form, from: localToIso(form.from ?? ''), to: localToIso(form.to ?? '') });
  };
  const err = (k: string) => fieldError(error, k);
  const input = (k: FilterKey, label: string, placeholder?: string) => (
    <div className="field">
      <label htmlFor={`f-${k}`}>{label}</label>
      <input id={`f-${k}`} value={form[k] ?? ''} onChange={(e) => set(k, e.target.value)} placeholder={placeholder} aria-invalid={!!err(k)} />
    </div>
  );
  return (
    <details className="card filters-card" open={wideScreen() || Object.keys(initial).length > 0}>
      <summary className="filters-summary">Filters{Object.keys(initial).length ? ` (${Object.keys(initial).length} applied)` : ''}</summary>
      <form onSubmit={onSubmit} aria-label="Filter the audit log">
        <div className="filters">
          <div className="field">
            <label htmlFor="f-cloud">Cloud</label>
            <select id="f-cloud" value={form.cloud ?? ''} onChange={(e) => set('cloud', e.target.value)}>
              <option value="">All clouds</option>
              {(schema.data?.clouds ?? ['aws', 'azure', 'gcp']).map((c) => (
                <option key={c} value={c}>
                  {c.toUpperCase()}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="f-type">Event type</label>
            <select id="f-type" value={form.type ?? ''} onChange={(e) => set('type', e.target.value)}>
              <option value="">All types</option>
              {(schema.data?.auditTypes ?? []).map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          {input('principal', 'Principal', 'user:dev@example.com')}
          {input('actor', 'Actor', 'sandbox-dev')}
          <div className="field">
            <label htmlFor="f-from">From</label>
            <input id="f-from" type="datetime-local" value={form.from ?? ''} onChange={(e) => set('from', e.target.value)} aria-invalid={!!err('from')} />
          </div>
          <div className="field">
            <label htmlFor="f-to">To</label>
            <input id="f-to" type="datetime-local" value={form.to ?? ''} onChange={(e) => set('to', e.target.value)} aria-invalid={!!err('to')} />
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

function EventTable({ events, busy }: { events: AuditEvent[]; busy: boolean }) {
  return (
    <div className="table-wrap" aria-busy={busy}>
      <table className="responsive">
        <caption className="visually-hidden">Audit events, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">Seq</th>
            <th scope="col">Time</th>
            <th scope="col">Type</th>
            <th scope="col">Cloud</th>
            <th scope="col">Principal</th>
            <th scope="col">Actor</th>
            <th scope="col">Grant</th>
            <th scope="col">Summary</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td data-label="Seq" className="num">
                {e.seq}
              </td>
              <td data-label="Time" className="nowrap">
                {formatTime(e.occurredAt)}
              </td>
              <td data-label="Type">
                <span className={`badge ${typeTone(e.type)}`}>{e.type}</span>
              </td>
              <td data-label="Cloud">
                <CloudBadge cloud={e.cloud} />
              </td>
              <td data-label="Principal" className="mono">
                {e.principal ?? '—'}
              </td>
              <td data-label="Actor" className="mono">
                {e.actor}
              </td>
              <td data-label="Grant">
                {e.grantId ? (
                  <Link to={`/grants/${e.grantId}`} className="mono" aria-label={`grant ${e.grantId}`}>
                    {e.grantId.slice(0, 8)}…
                  </Link>
                ) : (
                  '—'
                )}
              </td>
              <td data-label="Summary" className="event-summary">
                <EventSummary event={e} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The few facts of an event's data an auditor scans for (rule, decision count, reason, comment), and the rest on demand. */
function EventSummary({ event }: { event: AuditEvent }) {
  const d = event.data as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const approval = d.approval as { mode?: string; rule?: string } | undefined;
  const parts = [
    text(d.rule) ?? text(approval?.rule),
    text(approval?.mode),
    d.received !== undefined && d.required !== undefined ? `${text(d.received)}/${text(d.required)} approvals` : undefined,
    text(d.code),
    text(d.reason),
    d.comment ? `“${text(d.comment)}”` : undefined,
    text(d.error),
  ].filter(Boolean);
  return (
    <>
      {parts.length > 0 && <span>{parts.join(' · ')}</span>}
      <details>
        <summary>Data</summary>
        <pre className="event-data">{JSON.stringify(event.data, null, 2)}</pre>
        <p className="muted mono hash">hash {event.hash}</p>
      </details>
    </>
  );
}

export function typeTone(type: string): string {
  if (/denied|failed|break_glass|orphan_found/.test(type)) return 'badge-danger';
  if (/revoke|expired/.test(type)) return '';
  if (/activated|approved|provisioned/.test(type)) return 'badge-ok';
  return 'badge-info';
}
