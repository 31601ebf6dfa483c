/** `in 14m`, `3h ago`, `just now`: an instant relative to `now`, for people (scripts use --json). */
export function relativeTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return '-';
  const ms = new Date(iso).getTime() - now.getTime();
  if (Number.isNaN(ms)) return iso;
  const abs = Math.abs(ms);
  if (abs < 5_000) return 'just now';
  const text = compactDuration(abs);
  return ms > 0 ? `in ${text}` : `${text} ago`;
}

/** 42s, 5m, 5m 30s, 2h 5m, 3d 4h: two units at most. */
export function compactDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || (unit === 's' && parts.length === 0)) parts.push(`${n}${unit}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}
