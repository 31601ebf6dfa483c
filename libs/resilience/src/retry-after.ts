/**
 * The standard `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP date, as
 * milliseconds from `nowMs`; undefined when absent or unreadable. A date in the past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  const raw = value?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  if (/^[-+.\d]/.test(raw)) return undefined;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Azure's millisecond headers (`retry-after-ms`, `x-ms-retry-after-ms`) first, then
 * `Retry-After`, read through `get` so any header container fits.
 */
export function retryAfterFromHeaders(get: (name: string) => string | null | undefined, nowMs: number = Date.now()): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const raw = get(name)?.trim();
    if (raw && /^\d+(\.\d+)?$/.test(raw)) return Number(raw);
  }
  return parseRetryAfter(get('retry-after'), nowMs);
}
