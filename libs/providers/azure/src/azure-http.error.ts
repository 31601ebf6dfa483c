/** A non-2xx answer from Graph or ARM, or a failure to reach them (`status` 0). */
export class AzureHttpError extends Error {
  constructor(
    readonly api: 'graph' | 'arm',
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AzureHttpError';
  }

  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }

  /** "Principal not found" as Entra answers while a new principal replicates. */
  get principalNotFound(): boolean {
    return this.code === 'PrincipalNotFound' || (this.api === 'graph' && this.status === 404 && this.code === 'Request_ResourceNotFound');
  }
}

/** Reads `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After` (seconds or an HTTP date). */
export function retryAfterMs(get: (name: string) => string | null | undefined, now = Date.now()): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = Number(get(name));
    if (get(name) && Number.isFinite(v) && v >= 0) return v;
  }
  const raw = get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
