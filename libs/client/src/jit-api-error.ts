import type { components } from './openapi.generated';

export type Problem = components['schemas']['Problem'];
export type FieldIssue = components['schemas']['FieldIssue'];

const PROBLEM_PREFIX = 'urn:jit-broker:problem:';

/**
 * An error response of the broker: its RFC 7807 problem (`application/problem+json`), or, from
 * something in between that does not speak it (a proxy's HTML page), what the response said.
 * Switch on `code` (or `type`), not on `detail`.
 */
export class JitApiError extends Error {
  override readonly name = 'JitApiError';
  /** The problem's stable type, `urn:jit-broker:problem:<code>`; `about:blank` when the body was not a problem. */
  readonly type: string;
  /** `<code>` of the type: `validation`, `policy_denied`, `not_found`, `rate_limited`, ... */
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  /** Each input at fault, by name (`target.kind`, `Idempotency-Key`, `cursor`, ...). */
  readonly errors: FieldIssue[];
  /** The problem as received, extensions included (`decision`, `grantId`, `limit`, `errorId`, ...). */
  readonly problem: Problem;

  constructor(
    readonly status: number,
    problem: Problem,
    /** Seconds from a `Retry-After` header (429, 503), when there was one. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(`${status} ${problem.title}: ${problem.detail}`);
    this.problem = problem;
    this.type = problem.type;
    this.code = problem.type.startsWith(PROBLEM_PREFIX) ? problem.type.slice(PROBLEM_PREFIX.length) : problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
  }

  /** The first field named at fault, if any. */
  get field(): string | undefined {
    return this.errors[0]?.field;
  }

  /** Reads an error response: its problem document, or a stand-in built from its status and text. */
  static async fromResponse(response: Response): Promise<JitApiError> {
    const text = await response.text().catch(() => '');
    const retryAfter = Number(response.headers.get('retry-after'));
    return new JitApiError(response.status, asProblem(response, text), Number.isFinite(retryAfter) && retryAfter >= 0 && response.headers.has('retry-after') ? retryAfter : null);
  }
}

function asProblem(response: Response, text: string): Problem {
  try {
    const body = JSON.parse(text) as Partial<Problem> | null;
    if (body && typeof body.type === 'string' && typeof body.title === 'string') {
      return { ...body, type: body.type, title: body.title, status: typeof body.status === 'number' ? body.status : response.status, detail: typeof body.detail === 'string' ? body.detail : '' };
    }
  } catch {
    // Not JSON: described below.
  }
  return { type: 'about:blank', title: response.statusText || `HTTP ${response.status}`, status: response.status, detail: text.slice(0, 500) };
}
