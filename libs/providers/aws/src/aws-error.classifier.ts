import { ProviderError } from '@jit/domain';

interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'TooManyRequests', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled', 'SlowDown']);
const SERVER = new Set(['ServiceFailure', 'ServiceFailureException', 'InternalFailure', 'InternalError', 'InternalServer', 'ServiceUnavailable', 'ServiceUnavailableException']);
/**
 * IAM's answer to two writers on one entity at once, and Identity Center's `ConflictException`
 * (a write that has not reached every host yet, or an assignment operation still running on the
 * same permission set): safe to repeat, which is what AWS recommends for both.
 */
const CONFLICT = new Set(['ConcurrentModification', 'ConcurrentModificationException', 'Conflict']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'TimeoutError', 'AbortError', 'RequestTimeout']);

/** The awsQuery error code, whether the SDK mapped it to a modeled exception or not. */
export function errorCode(error: unknown): string {
  const e = error as SdkError;
  const code = e?.Code ?? e?.name ?? e?.code ?? '';
  return code.replace(/Exception$/, '');
}

/** True for IAM's `NoSuchEntity`, raw or already wrapped in a `ProviderError`. */
export function isNoSuchEntity(error: unknown): boolean {
  if (error instanceof ProviderError) return error.options.code === 'NoSuchEntity';
  return errorCode(error) === 'NoSuchEntity';
}

/** Maps an SDK or network error to the port's `ProviderError` (design.md section 5: 429/5xx retry, "not allowed" terminal). */
export function toProviderError(error: unknown, operation: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = error as SdkError;
  const status = e?.$metadata?.httpStatusCode;
  const code = errorCode(error);
  const raw = e?.code ?? e?.name ?? '';
  const message = `${operation}: ${code || 'error'}: ${e?.message ?? String(error)}`;
  const options = { code: code || undefined, cause: error };
  if (THROTTLING.has(code) || SERVER.has(code) || CONFLICT.has(code) || status === 429 || (status !== undefined && status >= 500)) {
    return new ProviderError('transient', message, options);
  }
  if (status === undefined && (NETWORK.has(raw) || NETWORK.has(code))) return new ProviderError('transient', message, options);
  if (code === 'LimitExceeded' || code === 'PackedPolicyTooLarge' || code === 'ServiceQuotaExceeded') return new ProviderError('limit', message, options);
  if (code === 'ValidationError' || code === 'InvalidInput' || code === 'Validation') return new ProviderError('invalid', message, options);
  return new ProviderError('terminal', message, options);
}
