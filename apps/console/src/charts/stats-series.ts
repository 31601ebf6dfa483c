/**
 * GET /v1/stats as chart series: labels along one axis and one series of values per dataset,
 * which the chart draws and its table alternative lists (the same numbers, so both say the same).
 */
import type { GrantStats } from '@jit/client';

export interface Series {
  label: string;
  values: number[];
}

export interface ChartData {
  labels: string[];
  series: Series[];
}

const DAY_MS = 86_400_000;

/** The UTC days (`YYYY-MM-DD`) that the range `[from, to)` touches, in order. */
export function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  const end = Date.parse(to);
  for (let t = Date.parse(`${from.slice(0, 10)}T00:00:00Z`); t < end; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** One series per distinct key, a value per label (0 where the rows have none). */
function pivot<R extends { count: number }>(rows: readonly R[], labels: string[], labelOf: (r: R) => string, keyOf: (r: R) => string, keys?: readonly string[]): Series[] {
  const index = new Map(labels.map((l, i) => [l, i]));
  const order = keys ? [...keys] : [...new Set(rows.map(keyOf))].sort();
  const series = new Map(order.map((k) => [k, new Array<number>(labels.length).fill(0)]));
  for (const r of rows) {
    const i = index.get(labelOf(r));
    const values = series.get(keyOf(r));
    if (i !== undefined && values) values[i] += r.count;
  }
  return order.map((label) => ({ label, values: series.get(label)! }));
}

/** Grants requested per UTC day over the whole range (days without any at 0), stacked by cloud or by kind. */
export function grantsPerDay(stats: GrantStats, by: 'cloud' | 'kind'): ChartData {
  const labels = daysOf(stats.from, stats.to);
  return { labels, series: pivot(stats.perDay, labels, (r) => r.day, (r) => (by === 'cloud' ? r.cloud : r.kind)) };
}

export const OPEN_STATES = ['active', 'pending_approval', 'provisioning', 'revoking', 'revoke_failed'] as const;

/** Grants not yet ended, by cloud, one series per state (states with none left out). */
export function openNow(stats: GrantStats): ChartData {
  const labels = [...new Set(stats.openNow.map((r) => r.cloud))].sort();
  const present = OPEN_STATES.filter((s) => stats.openNow.some((r) => r.state === s));
  return { labels, series: pivot(stats.openNow, labels, (r) => r.cloud, (r) => r.state, present) };
}

/** 75 → "1 min 15 s"; 3600 → "1 h"; short forms for axis labels. */
export function shortSeconds(s: number): string {
  if (s < 60) return `${Number(s.toFixed(s < 10 ? 1 : 0))} s`;
  if (s < 3600) return `${Number((s / 60).toFixed(s < 600 ? 1 : 0))} min`;
  return `${Number((s / 3600).toFixed(1))} h`;
}

/** The revocation-lag histogram: "≤ 1 s", "1 s – 5 s", …, "> 1 h". */
export function revocationLag(stats: GrantStats): ChartData {
  const buckets = stats.revocationLag.buckets;
  const labels = buckets.map((b, i) => {
    const below = i > 0 ? buckets[i - 1].upToSeconds : null;
    if (b.upToSeconds === null) return `> ${shortSeconds(below ?? 0)}`;
    return below === null ? `≤ ${shortSeconds(b.upToSeconds)}` : `${shortSeconds(below)} – ${shortSeconds(b.upToSeconds)}`;
  });
  return { labels, series: [{ label: 'expired grants', values: buckets.map((b) => b.count) }] };
}

/** Break-glass grants per UTC day over the range, by cloud. */
export function breakGlassPerDay(stats: GrantStats): ChartData {
  const labels = daysOf(stats.from, stats.to);
  return { labels, series: pivot(stats.breakGlass.perDay, labels, (r) => r.day, (r) => r.cloud) };
}

export const DENIAL_LABELS: Record<GrantStats['denials'][number]['reason'], string> = {
  policy: 'refused by the rules',
  // By an approver, or by the rules when a pending request's target went on the deny-list.
  denied: 'denied while pending',
  timeout: 'approval timed out',
  withdrawn: 'withdrawn by the requester',
};

/** What a denial's null rule means. */
export const NO_RULE = '(no rule matched)';

/** Denials by rule (most first), one series per reason. */
export function denialsByRule(stats: GrantStats): ChartData {
  const totals = new Map<string, number>();
  for (const d of stats.denials) totals.set(d.rule ?? NO_RULE, (totals.get(d.rule ?? NO_RULE) ?? 0) + d.count);
  const labels = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([rule]) => rule);
  const reasons = (Object.keys(DENIAL_LABELS) as (keyof typeof DENIAL_LABELS)[]).filter((r) => stats.denials.some((d) => d.reason === r));
  const series = pivot(stats.denials, labels, (r) => r.rule ?? NO_RULE, (r) => r.reason, reasons);
  return { labels, series: series.map((s) => ({ ...s, label: DENIAL_LABELS[s.label as keyof typeof DENIAL_LABELS] })) };
}

/** The sum of every value in the chart. */
export function total(data: ChartData): number {
  return data.series.reduce((n, s) => n + s.values.reduce((a, b) => a + b, 0), 0);
}
