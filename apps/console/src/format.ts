/** Formatting shared by the pages: durations, times, states, targets. */
import { useEffect, useState } from 'react';
import type { Grant } from '@jit/client';

/** Seconds of an ISO-8601 duration with days, hours, minutes, seconds (what the broker accepts), or undefined. */
export function isoSeconds(value: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value.trim().toUpperCase());
  if (!m || value.trim().toUpperCase() === 'P' || value.trim().toUpperCase().endsWith('T')) return undefined;
  const [, d, h, min, s] = m;
  return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

/** 5400 → "1 h 30 min"; 45 → "45 s". */
export function humanSeconds(total: number): string {
  const seconds = Math.max(0, Math.round(total));
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = [d && `${d} d`, h && `${h} h`, m && `${m} min`, !d && !h && s && `${s} s`].filter(Boolean);
  return parts.length ? parts.join(' ') : '0 s';
}

export function humanDuration(iso: string): string {
  const seconds = isoSeconds(iso);
  return seconds === undefined ? iso : humanSeconds(seconds);
}

/** A countdown "12:04" / "1:02:03" to `until`, or "0:00" once passed. */
export function countdown(until: string | Date, now: number): string {
  const left = Math.max(0, Math.floor((new Date(until).getTime() - now) / 1000));
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** The current time, updated every `ms` (for countdowns). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export function formatTime(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : dateTime.format(date);
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
export function ago(value: string, now = Date.now()): string {
  const seconds = Math.round((new Date(value).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86400), 'day');
}

const STATE_TONE: Record<Grant['state'], string> = {
  pending_approval: 'warn',
  provisioning: 'info',
  active: 'ok',
  revoking: 'info',
  expired: '',
  revoked: '',
  denied: 'danger',
  failed: 'danger',
  revoke_failed: 'danger',
};

export function stateLabel(state: Grant['state']): string {
  return state.replace(/_/g, ' ');
}

export function stateClass(state: Grant['state']): string {
  const tone = STATE_TONE[state];
  return tone ? `badge badge-${tone}` : 'badge';
}

export const TERMINAL_STATES: ReadonlySet<Grant['state']> = new Set(['expired', 'revoked', 'denied', 'failed']);

/** A target in one line: its kind and its fields, e.g. "gcp.iam-binding · resource=projects/p · role=roles/x". */
export function targetSummary(target: Grant['target']): string {
  const { kind, ...rest } = target;
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean)}`);
  return [kind, ...fields].join(' · ');
}

/** The target's fields other than its kind, as [name, text] pairs. */
export function targetFields(target: Grant['target']): [string, string][] {
  const { kind: _kind, ...rest } = target;
  return Object.entries(rest)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean)]);
}

/** A datetime-local input's value as RFC 3339 (UTC), or undefined when empty or invalid. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** RFC 3339 as a datetime-local input's value, in the browser's zone. */
export function isoToLocal(value: string | null | undefined): string {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The document's title for the page being shown (what a screen reader announces and a tab shows). */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · JIT access`;
  }, [title]);
}

/** Wider than a phone (the stylesheet's breakpoint): panels such as filters start open there. */
export function wideScreen(): boolean {
  return window.matchMedia('(min-width: 801px)').matches;
}
