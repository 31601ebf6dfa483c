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
