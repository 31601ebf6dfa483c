import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import type { GrantStats, GrantStatsQuery } from '@jit/client';
import { api } from '../api';
import { BarChart } from '../charts/BarChart';
import { breakGlassPerDay, denialsByRule, grantsPerDay, openNow, revocationLag, shortSeconds, total } from '../charts/stats-series';
import { ErrorState, Loading } from '../components/states';
import { formatTime, usePageTitle } from '../format';
import '../charts/charts.css';

/** The ranges offered, in days back from now, besides UTC days from .. to (the API allows up to 366 days). */
const RANGES = [7, 30, 90, 365] as const;
const CLOUDS = ['aws', 'azure', 'gcp'] as const;
/** How often the figures are read again while the page is open. */
const REFRESH_MS = 60_000;
const DAY_MS = 86_400_000;

type Cloud = (typeof CLOUDS)[number];

/** Days back from now, or UTC calendar days from..to (both included) when the URL names them. */
type Range = { days: number } | { from: string; to: string };
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function rangeOf(params: URLSearchParams): Range {
  const [from, to] = [params.get('from') ?? '', params.get('to') ?? ''];
  if (DAY.test(from) && DAY.test(to)) return { from, to };
  const days = Number(params.get('days'));
  return { days: (RANGES as readonly number[]).includes(days) ? days : 30 };
}

/** The query's from and to; the broker checks them (a reversed or too wide range is its 400, naming the field). */
function queryRange(range: Range): Pick<GrantStatsQuery, 'from' | 'to'> {
  if ('days' in range) return { from: new Date(Date.now() - range.days * DAY_MS).toISOString() };
  return { from: `${range.from}T00:00:00Z`, to: new Date(Date.parse(`${range.to}T00:00:00Z`) + DAY_MS).toISOString() };
}

function cloudOf(params: URLSearchParams): Cloud | undefined {
  const cloud = params.get('cloud');
  return (CLOUDS as readonly string[]).includes(cloud ?? '') ? (cloud as Cloud) : undefined;
}

/**
 * Charts where people would rather look than read (issue 15 point 5): grants per day by cloud or
 * kind, open grants now, the revocation lag, break-glass uses and denials by rule, each with a
 * table of the same numbers. The broker aggregates (GET /v1/stats): the page never loads grants.
 */
export function InsightsPage() {
  usePageTitle('Insights');
  const [params, setParams] = useSearchParams();
  const range = rangeOf(params);
  const cloud = cloudOf(params);
  const today = new Date().toISOString().slice(0, 10);
  const stats = useQuery({
    queryKey: ['stats', range, cloud],
    // A range back from now ends when it is read: `to` is left to the broker.
    queryFn: ({ signal }) => api.getGrantStats({ ...queryRange(range), ...(cloud && { cloud }) }, { signal }),
    placeholderData: keepPreviousData,
    refetchInterval: REFRESH_MS,
    retry: false,
  });
  const choose = (next: { range?: Range; cloud?: string }) => {
    const r = next.range ?? range;
    const merged = { ...('days' in r ? { days: String(r.days) } : r), cloud: next.cloud ?? cloud ?? '' };
    setParams(Object.fromEntries(Object.entries(merged).filter(([, v]) => v)));
  };

  return (
    <section>
      <div className="page-header">
        <h1>Insights</h1>
      </div>
      <form className="card insights-filters" aria-label="Range and cloud" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="insights-days">Range</label>
          <select
            id="insights-days"
            value={'days' in range ? range.days : 'custom'}
            onChange={(e) => choose({ range: e.target.value === 'custom' ? { from: new Date(Date.now() - 30 * DAY_MS).toISOString().slice(0, 10), to: today } : { days: Number(e.target.value) } })}
          >
            {RANGES.map((d) => (
              <option key={d} value={d}>
                Last {d} days
              </option>
            ))}
            <option value="custom">Days from … to …</option>
          </select>
        </div>
        {!('days' in range) && (
          <>
            <div className="field">
              <label htmlFor="insights-from">From (UTC day)</label>
              <input id="insights-from" type="date" value={range.from} max={range.to} onChange={(e) => DAY.test(e.target.value) && choose({ range: { ...range, from: e.target.value } })} />
            </div>
            <div className="field">
              <label htmlFor="insights-to">To (UTC day, included)</label>
              <input id="insights-to" type="date" value={range.to} min={range.from} onChange={(e) => DAY.test(e.target.value) && choose({ range: { ...range, to: e.target.value } })} />
            </div>
          </>
        )}
        <div className="field">
          <label htmlFor="insights-cloud">Cloud</label>
          <select id="insights-cloud" value={cloud ?? ''} onChange={(e) => choose({ cloud: e.target.value })}>
            <option value="">All clouds</option>
            {CLOUDS.map((c) => (
              <option key={c} value={c}>
                {c.toUpperCase()}
              </option>
            ))}
          </select>
        </div>
        <p className="muted" aria-live="polite">
          {stats.data ? `${formatTime(stats.data.from)} – ${formatTime(stats.data.to)}${stats.isFetching ? ' · updating…' : ''}` : ''}
        </p>
      </form>
      {stats.isPending && <Loading what="figures" />}
      <ErrorState error={stats.error} title="Could not read the figures" />
      {stats.data && <Figures stats={stats.data} />}
    </section>
  );
}

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

function Figures({ stats }: { stats: GrantStats }) {
  const [by, setBy] = useState<'cloud' | 'kind'>('cloud');
  const perDay = grantsPerDay(stats, by);
  const open = openNow(stats);
  const lag = revocationLag(stats);
  const breakGlass = breakGlassPerDay(stats);
  const denials = denialsByRule(stats);
  const requested = total(perDay);
  const openCount = (state: string) => stats.openNow.filter((r) => r.state === state).reduce((n, r) => n + r.count, 0);
  const denied = total(denials);
  const busiest = perDay.labels.reduce<{ day: string; n: number }>(
    (best, day, i) => {
      const n = perDay.series.reduce((s, series) => s + series.values[i], 0);
      return n > best.n ? { day, n } : best;
    },
    { day: '', n: 0 },
  );
  const l = stats.revocationLag;

  return (
    <>
      <dl className="stat-tiles">
        <div className="card stat-tile">
          <dt>Requested</dt>
          <dd>{requested.toLocaleString()}</dd>
        </div>
        <div className="card stat-tile">
          <dt>Active now</dt>
          <dd>{openCount('active').toLocaleString()}</dd>
        </div>
        <div className="card stat-tile">
          <dt>Awaiting approval</dt>
          <dd>{openCount('pending_approval').toLocaleString()}</dd>
        </div>
        <div className="card stat-tile">
          <dt>Break-glass uses</dt>
          <dd>{stats.breakGlass.total.toLocaleString()}</dd>
        </div>
        <div className="card stat-tile">
          <dt>Denials</dt>
          <dd>{denied.toLocaleString()}</dd>
        </div>
        <div className="card stat-tile">
          <dt>Revocation lag p95</dt>
          <dd>{l.p95Seconds === null ? '—' : shortSeconds(l.p95Seconds)}</dd>
        </div>
      </dl>
      <div className="charts">
        <div className="chart-wide">
          <BarChart
            title="Grants requested per day"
            summary={`${count(requested, 'grant')} requested${busiest.n ? `; the busiest day was ${busiest.day} with ${busiest.n.toLocaleString()}` : ''}. Days are UTC.`}
            data={perDay}
            labelHeading="Day (UTC)"
            stacked
            skipEmptyRows
            empty="No grant was requested in this range."
          >
            <div className="actions" role="group" aria-label="Stack the bars by">
              <span className="muted">Stack by</span>
              {(['cloud', 'kind'] as const).map((b) => (
                <button key={b} type="button" className={by === b ? 'btn btn-small btn-selected' : 'btn btn-small'} aria-pressed={by === b} onClick={() => setBy(b)}>
                  {b}
                </button>
              ))}
            </div>
          </BarChart>
        </div>
        <BarChart
          title="Open grants now"
          summary={`${count(total(open), 'grant')} not yet ended: ${open.series.map((s) => `${s.values.reduce((a, b) => a + b, 0).toLocaleString()} ${s.label.replace('_', ' ')}`).join(', ')}. Whatever the range.`}
          data={open}
          labelHeading="Cloud"
          stacked
          horizontal
          empty="No grant is open now."
        />
        <BarChart
          title="Revocation lag"
          summary={
            l.count
              ? `${count(l.count, 'grant')} expired; from expiresAt to the recorded end: median ${shortSeconds(l.p50Seconds ?? 0)}, 95 % within ${shortSeconds(l.p95Seconds ?? 0)}, longest ${shortSeconds(l.maxSeconds ?? 0)}.`
              : ''
          }
          data={lag}
          labelHeading="Lag"
          empty="No grant expired in this range."
        />
        <BarChart
          title="Break-glass uses"
          summary={`${count(stats.breakGlass.total, 'break-glass grant')} in this range.`}
          data={breakGlass}
          labelHeading="Day (UTC)"
          stacked
          skipEmptyRows
          empty="No break-glass account was used in this range."
        >
          {stats.breakGlass.latest.length > 0 && (
            <>
              <h3 className="visually-hidden">Latest break-glass grants</h3>
              <ul className="break-glass-list">
                {stats.breakGlass.latest.map((b) => (
                  <li key={b.grantId}>
                    <Link to={`/grants/${b.grantId}`}>{formatTime(b.createdAt)}</Link> · {b.requestedBy} · {b.cloud.toUpperCase()} {b.kind}
                  </li>
                ))}
              </ul>
            </>
          )}
        </BarChart>
        <BarChart
          title="Denials by rule"
          summary={`${count(denied, 'request')} refused or not granted${denials.labels.length ? `; most under ${denials.labels[0]}` : ''}.`}
          data={denials}
          labelHeading="Rule"
          stacked
          horizontal
          empty="No request was refused in this range."
        />
      </div>
    </>
  );
}
