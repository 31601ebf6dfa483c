import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Response } from 'express';
import { DomainError, DomainErrorCode } from '@jit/domain';
import { isStoreUnavailable } from '@jit/persistence';
import { wordedIssues } from './issue-wording';
import { Problem, problemType, sendProblem } from './problem';
import { RateLimitExceeded } from './subject-rate-limit.guard';

const STATUS: Record<DomainErrorCode, { status: number; title: string }> = {
  validation: { status: 400, title: 'Invalid request' },
  not_found: { status: 404, title: 'Not found' },
  forbidden: { status: 403, title: 'Forbidden' },
  invalid_state: { status: 409, title: 'Not possible in the current state' },
  idempotency_conflict: { status: 409, title: 'Idempotency-Key conflict' },
  limit_exceeded: { status: 422, title: 'Cloud limit exceeded' },
  provider_rejected: { status: 502, title: 'The cloud refused the change' },
  provider_unavailable: { status: 503, title: 'The cloud is unavailable' },
  provider_disabled: { status: 400, title: 'Cloud not enabled' },
  policy_denied: { status: 403, title: 'Denied by the access rules' },
};

/** Retry-After of a 503 for a database that does not answer: about a restart's or a failover's length. */
const STORE_RETRY_AFTER_SECONDS = 5;

/** The one place where errors become HTTP: RFC 7807 problems, never a stack trace. */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (error instanceof DomainError) {
      const { status, title } = STATUS[error.code];
      const { detail, issues } = wordedIssues(error);
      const problem: Problem = { type: problemType(error.code), title, status, detail, ...error.extra };
      if (issues.length) problem.errors = issues;
      return sendProblem(res, problem, status === 503 ? { 'Retry-After': '5' } : {});
    }
    if (error instanceof RateLimitExceeded) {
      const problem: Problem = { type: problemType('rate_limited'), title: 'Too many requests', status: 429, detail: error.message, ...error.problemExtension };
      return sendProblem(res, problem, { 'Retry-After': String(error.retryAfterSeconds) });
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const body = error.getResponse();
      const message = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      // Nest's own exceptions carry a string or a list of strings; anything else is not shown.
      const detail = typeof message === 'string' ? message : Array.isArray(message) ? message.join('; ') : error.message;
      const code = status === 401 ? 'unauthenticated' : status === 404 ? 'not_found' : status === 403 ? 'forbidden' : `http_${status}`;
      return sendProblem(
        res,
        { type: problemType(code), title: error.name.replace(/Exception$/, ''), status, detail },
        status === 401 ? { 'WWW-Authenticate': 'Bearer realm="jit-broker"' } : {},
      );
    }
    if (isStoreUnavailable(error)) {
      // Not a fault of the request: the same call may well succeed once the database answers again.
      this.logger.warn(`database unavailable: ${error instanceof Error ? error.message : String(error)}`);
      const detail = `the broker cannot reach its database; retry in ${STORE_RETRY_AFTER_SECONDS} s (with the same Idempotency-Key, a request that was stored is answered, not repeated)`;
      return sendProblem(
        res,
        { type: problemType('store_unavailable'), title: 'The database is unavailable', status: 503, detail },
        { 'Retry-After': String(STORE_RETRY_AFTER_SECONDS) },
      );
    }
    const errorId = randomUUID();
    this.logger.error(`errorId=${errorId} ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    sendProblem(res, { type: problemType('internal'), title: 'Internal error', status: 500, detail: `internal error ${errorId}`, errorId });
  }
}
