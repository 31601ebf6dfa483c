import { parse } from 'tinyduration';

/**
 * Parses an ISO-8601 duration (`PT20M`, `P1DT2H`) into whole seconds.
 * Years and months are refused: their length in seconds is not fixed.
 * Returns undefined for anything that is not a valid duration.
 */
export function parseIsoDurationSeconds(text: string): number | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  let d;
  try {
    d = parse(text);
  } catch {
    return undefined;
  }
  if (d.negative || d.years || d.months) return undefined;
  const seconds =
    (d.weeks ?? 0) * 604800 + (d.days ?? 0) * 86400 + (d.hours ?? 0) * 3600 + (d.minutes ?? 0) * 60 + (d.seconds ?? 0);
  if (!Number.isFinite(seconds)) return undefined;
  return Math.round(seconds * 1000) / 1000;
}

/** Whole seconds as an ISO-8601 duration (`PT1H30M`), for messages that quote a limit. */
export function formatIsoDuration(seconds: number): string {
  let rest = Math.round(seconds);
  const d = Math.floor(rest / 86400);
  rest -= d * 86400;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  const time = `${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`;
  return `P${d ? `${d}D` : ''}${time ? `T${time}` : d ? '' : 'T0S'}`;
}
