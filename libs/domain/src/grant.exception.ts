/** Stable error codes; the HTTP edge maps each to a status and a problem `type`. */
export type DomainErrorCode =
  | 'validation'
  | 'not_found'
  | 'forbidden'
  | 'invalid_state'
  | 'idempotency_conflict'
  | 'limit_exceeded'
  | 'provider_rejected'
  | 'provider_unavailable'
  | 'provider_disabled'
  | 'policy_denied';

export interface FieldIssue {
  field: string;
  message: string;
  /** The configured bound the value is outside of, so an edge can name the setting behind it. */
  bound?: 'duration';
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly issues: FieldIssue[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static validation(issues: FieldIssue[]): DomainError {
    const summary = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
    return new DomainError('validation', summary, issues);
  }
}
