import { lazy, Suspense, useEffect, useState, type FormEvent } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import type { components, operations } from '@jit/client';
import { api } from '../api';
import { Pager, useCursorPages } from '../components/Pager';
import { CloudBadge } from '../components/GrantBits';
import { Empty, ErrorState, fieldError, Loading } from '../components/states';
import { formatTime, usePageTitle, wideScreen } from '../format';
import { hasRole, useSession } from '../session';
import { principalNature, unusedText, type DiscoveryFinding, type DiscoveryScan, type DiscoverySummary } from './discovery-bits';
import '../charts/charts.css';
import { FilterActions } from '../components/FilterActions';

type FindingsQuery = NonNullable<operations['listDiscoveryFindings']['parameters']['query']>;

// The chart brings Chart.js: loaded when the summary is shown, as the Insights page is.
const SummaryChart = lazy(() => import('./discovery-chart').then((m) => ({ default: m.DiscoverySummaryChart })));

const FILTER_KEYS = ['cloud', 'privileged', 'unusedFor', 'principalType', 'status', 'scope', 'access'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
type Filters = Partial<Record<FilterKey, string>>;
const PAGE = 50;
/** How often a running scan is read again. */
const SCAN_POLL_MS = 1_500;
const PRINCIPAL_TYPES = ['human', 'workload', 'user', 'group', 'role', 'service_principal', 'managed_identity', 'service_account', 'unknown'];

function filtersOf(params: URLSearchParams): Filters {
  return Object.fromEntries(FILTER_KEYS.flatMap((k) => (params.get(k) ? [[k, params.get(k)!]] : [])));
}

/** The URL of a findings export (CSV or JSONL) of exactly these filters: a same-origin GET the browser downloads with the cookie. */
export function findingsExportUrl(format: 'csv' | 'jsonl', filters: Filters): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  params.set('format', format);
  return `/v1/discovery/findings?${params.toString()}`;
}

/**
 * Standing access in the clouds (issue 16): the per-cloud summary as tiles and a chart, a scan
 * with its live progress, the findings with the API's filters, cursor paging and export.
 */
export function DiscoveryPage() {
  usePageTitle('Discovery');
  const [params, setParams] = useSearchParams();
  const filters = filtersOf(params);
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const findings = useQuery({
    queryKey: ['discovery-findings', filters, cursor],
    queryFn: async ({ signal }) => {
      // The broker checks the values (a bad unusedFor is its 400 naming the field).
      const query = { ...filters, limit: PAGE, ...(cursor && { cursor }) } as unknown as FindingsQuery;
      const { data } = await api.api.GET('/v1/discovery/findings', { params: { query }, signal });
      return data as components['schemas']['DiscoveryFindingPage'];
    },
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
        <h1>Discovery</h1>
        <ExportLinks filters={filters} />
      </div>
      <Summary />
      <h2>Findings</h2>
      <FilterForm key={params.toString()} initial={filters} onApply={apply} error={findings.error} />
      {findings.isPending && <Loading what="findings" />}
      <ErrorState error={findings.error} title="Could not read the findings" />
      {findings.data && findings.data.items.length === 0 && <Empty>No finding matches these filters{Object.keys(filters).length ? '' : ': run a scan to find standing access'}.</Empty>}
      {findings.data && findings.data.items.length > 0 && (
        <>
          <FindingTable findings={findings.data.items} busy={findings.isFetching} />
          <Pager pages={pages} nextCursor={findings.data.nextCursor} labels={['Previous', 'Next']} status={`Page ${pages.page} · ${findings.data.items.length} findings`} />
        </>
      )}
    </section>
  );
}

function Summary() {
  const queryClient = useQueryClient();
  const session = useSession();
  const summary = useQuery({
    queryKey: ['discovery-summary'],
    queryFn: async ({ signal }) => (await api.api.GET('/v1/discovery/summary', { signal })).data!,
    retry: false,
  });
  // The scan this page follows: one just started here, or one running when the page opened.
  const [scanId, setScanId] = useState<string | null>(null);
  const followed = scanId ?? (summary.data?.lastScan?.state === 'running' ? summary.data.lastScan.id : null);
  const scan = useQuery({
    queryKey: ['discovery-scan', followed],
    enabled: followed !== null,
    queryFn: async ({ signal }) => (await api.api.GET('/v1/discovery/scans/{id}', { params: { path: { id: followed! } }, signal })).data!,
    refetchInterval: (q) => (q.state.data && q.state.data.state !== 'running' ? false : SCAN_POLL_MS),
    retry: false,
  });
  const start = useMutation({
    mutationFn: async () => (await api.api.POST('/v1/discovery/scans')).data!,
    onSuccess: (s) => {
      queryClient.setQueryData(['discovery-scan', s.id], s);
      setScanId(s.id);
    },
  });
  const current = scan.data ?? (followed ? null : (summary.data?.lastScan ?? null));
  const ended = scan.data && scan.data.state !== 'running' ? scan.data.id : null;
  // When the followed scan ends, the summary and findings are read again.
  useEffect(() => {
    if (!ended) return;
    void queryClient.invalidateQueries({ queryKey: ['discovery-summary'] });
    void queryClient.invalidateQueries({ queryKey: ['discovery-findings'] });
  }, [ended, queryClient]);
  const running = current?.state === 'running';

  return (
    <>
      <div className="card">
        <div className="page-header">
          <h2 className="card-title">Scans</h2>
          {hasRole(session, 'admin', 'auditor') && (
            <button type="button" className="btn btn-primary" disabled={running || start.isPending} onClick={() => start.mutate()}>
              {running ? 'Scanning…' : start.isPending ? 'Starting…' : 'Scan now'}
            </button>
          )}
        </div>
        <ErrorState error={start.error} title="Could not start a scan" />
        <ErrorState error={scan.error} title="Could not read the scan" />
        {current ? <ScanProgress scan={current} /> : summary.data && <p className="muted">No scan yet.</p>}
      </div>
      {summary.isPending && <Loading what="the summary" />}
      <ErrorState error={summary.error} title="Could not read the summary" />
      {summary.data && <SummaryTiles summary={summary.data} />}
    </>
  );
}

export function ScanProgress({ scan }: { scan: DiscoveryScan }) {
  const parts = scan.clouds.reduce((n, c) => n + c.parts, 0);
  const done = scan.clouds.reduce((n, c) => n + c.partsDone + c.partsFailed, 0);
  const assignments = scan.clouds.reduce((n, c) => n + c.assignments, 0);
  const errors = scan.clouds.reduce((n, c) => n + c.errors, 0);
  const tone = scan.state === 'completed' ? 'badge-ok' : scan.state === 'failed' ? 'badge-danger' : 'badge-info';
  return (
    <div className="scan-progress" aria-live="polite" aria-busy={scan.state === 'running'}>
      <p>
        <span className={`badge ${tone}`}>{scan.state}</span> Scan <span className="mono">{scan.id.slice(0, 8)}</span> ({scan.trigger}, by {scan.requestedBy}) started {formatTime(scan.createdAt)}
        {scan.finishedAt && `, ended ${formatTime(scan.finishedAt)}`}
      </p>
      <label className="progress-label">
        <span>
          {done.toLocaleString()} of {parts.toLocaleString()} parts done · {assignments.toLocaleString()} assignments read · {errors.toLocaleString()} errors
        </span>
        <progress max={Math.max(parts, 1)} value={scan.state === 'running' ? done : Math.max(parts, 1)} />
      </label>
      <div className="table-wrap">
        <table className="responsive">
          <caption className="visually-hidden">Scan progress per cloud</caption>
          <thead>
            <tr>
              <th scope="col">Cloud</th>
              <th scope="col" className="num">Parts done</th>
              <th scope="col" className="num">Failed</th>
              <th scope="col" className="num">Pages</th>
              <th scope="col" className="num">Assignments</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {scan.clouds.map((c) => (
              <tr key={c.cloud}>
                <th scope="row" data-label="Cloud">
                  <CloudBadge cloud={c.cloud} />
                </th>
                <td data-label="Parts done" className="num">
                  {c.listed ? `${c.partsDone}/${c.parts}` : 'not listed'}
                </td>
                <td data-label="Failed" className="num">{c.partsFailed}</td>
                <td data-label="Pages" className="num">{c.pages}</td>
                <td data-label="Assignments" className="num">{c.assignments}</td>
                <td data-label="Last error" className="event-summary">
                  {c.error ?? scan.parts.find((p) => p.cloud === c.cloud && p.lastError)?.lastError ?? '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function SummaryTiles({ summary }: { summary: DiscoverySummary }) {
  const sum = (k: keyof DiscoverySummary['clouds'][number]) => summary.clouds.reduce((n, c) => n + (c[k] as number), 0);
  return (
    <>
      <dl className="stat-tiles" aria-label="Standing access, all clouds">
        <div className="card stat-tile">
          <dt>Standing assignments</dt>
          <dd>{sum('open').toLocaleString()}</dd>
        </div>
        <div className="card stat-tile">
          <dt>Privileged</dt>
          <dd>{sum('privileged').toLocaleString()}</dd>
        </div>
        <div className="card stat-tile">
          <dt>Privileged, unused ≥ {summary.unusedDays} days</dt>
          <dd>{sum('privilegedUnused').toLocaleString()}</dd>
        </div>
        <div className="card stat-tile">
          <dt>Privileged humans</dt>
          <dd>{sum('privilegedHumans').toLocaleString()}</dd>
        </div>
        <div className="card stat-tile">
          <dt>Privileged workloads</dt>
          <dd>{sum('privilegedWorkloads').toLocaleString()}</dd>
        </div>
      </dl>
      <Suspense fallback={<Loading what="the chart" />}>
        <SummaryChart summary={summary} />
      </Suspense>
    </>
  );
}

function ExportLinks({ filters }: { filters: Filters }) {
  const described = Object.keys(filters).length ? 'the filtered findings' : 'every finding';
  return (
    <div className="actions" role="group" aria-label={`Export ${described}`}>
      <a className="btn btn-small" href={findingsExportUrl('csv', filters)} download>
        Export CSV
      </a>
      <a className="btn btn-small" href={findingsExportUrl('jsonl', filters)} download>
        Export JSONL
      </a>
    </div>
  );
}

function FilterForm({ initial, onApply, error }: { initial: Filters; onApply: (f: Filters) => void; error: unknown }) {
  const [form, setForm] = useState<Filters>(initial);
  const set = (k: FilterKey, v: string) => setForm((f) => ({ ...f, [k]: v }));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    onApply(form);
  };
  const err = (k: string) => fieldError(error, k);
  const select = (k: FilterKey, label: string, all: string, options: [string, string][]) => (
    <div className="field">
      <label htmlFor={`df-${k}`}>{label}</label>
      <select id={`df-${k}`} value={form[k] ?? ''} onChange={(e) => set(k, e.target.value)} aria-invalid={!!err(k)}>
        <option value="">{all}</option>
        {options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <details className="card filters-card" open={wideScreen() || Object.keys(initial).length > 0}>
      <summary className="filters-summary">Filters{Object.keys(initial).length ? ` (${Object.keys(initial).length} applied)` : ''}</summary>
      <form onSubmit={onSubmit} aria-label="Filter the findings">
        <div className="filters">
          {select('cloud', 'Cloud', 'All clouds', [['aws', 'AWS'], ['azure', 'Azure'], ['gcp', 'GCP']])}
          {select('privileged', 'Privileged', 'Privileged or not', [['true', 'Privileged only'], ['false', 'Not privileged']])}
          {select('principalType', 'Principal', 'Any principal', PRINCIPAL_TYPES.map((t) => [t, t.replace('_', ' ')]))}
          {select('status', 'Status', 'Any status', [['open', 'Open'], ['resolved', 'Resolved'], ['removed', 'Removed']])}
          <div className="field">
            <label htmlFor="df-unusedFor">Unused for at least (days)</label>
            <input id="df-unusedFor" type="number" inputMode="numeric" value={form.unusedFor ?? ''} onChange={(e) => set('unusedFor', e.target.value)} aria-invalid={!!err('unusedFor')} aria-describedby={err('unusedFor') ? 'df-unusedFor-error' : undefined} />
            {err('unusedFor') && (
              <p className="error" id="df-unusedFor-error">
                {err('unusedFor')}
              </p>
            )}
          </div>
          <div className="field">
            <label htmlFor="df-scope">Scope (glob)</label>
            <input id="df-scope" value={form.scope ?? ''} onChange={(e) => set('scope', e.target.value)} placeholder="aws:123456789012" aria-invalid={!!err('scope')} />
          </div>
          <div className="field">
            <label htmlFor="df-access">Role or policy (glob)</label>
            <input id="df-access" value={form.access ?? ''} onChange={(e) => set('access', e.target.value)} placeholder="*Admin*" aria-invalid={!!err('access')} />
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

function FindingTable({ findings, busy }: { findings: DiscoveryFinding[]; busy: boolean }) {
  return (
    <div className="table-wrap" aria-busy={busy}>
      <table className="responsive">
        <caption className="visually-hidden">Findings</caption>
        <thead>
          <tr>
            <th scope="col">Principal</th>
            <th scope="col">Access</th>
            <th scope="col">Cloud</th>
            <th scope="col">Scope</th>
            <th scope="col">Privileged</th>
            <th scope="col">Last use</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {findings.map((f) => (
            <tr key={f.id}>
              <td data-label="Principal">
                <Link to={`/discovery/findings/${f.id}`}>{f.principal.displayName ?? f.principal.id}</Link>
                <div className="muted">
                  {f.principal.kind.replace('_', ' ')} · {principalNature(f.principal.human)}
                </div>
              </td>
              <td data-label="Access" className="mono">
                {f.access.name}
              </td>
              <td data-label="Cloud">
                <CloudBadge cloud={f.cloud} />
              </td>
              <td data-label="Scope" className="mono event-summary">
                {f.scope}
              </td>
              <td data-label="Privileged">{f.privileged ? <span className="badge badge-danger">privileged</span> : <span className="muted">no</span>}</td>
              <td data-label="Last use" className="nowrap">
                {f.lastUsedAt ? formatTime(f.lastUsedAt) : '—'}
                <div className={f.neverUsed || (f.unusedDays ?? 0) >= 90 ? 'badge badge-warn' : 'muted'}>{unusedText(f)}</div>
              </td>
              <td data-label="Status">
                <span className={f.status === 'open' ? 'badge badge-info' : 'badge'}>{f.status}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
