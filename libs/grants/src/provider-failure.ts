import { DomainError, Grant, MAX_ERROR_LENGTH, ProviderError } from '@jit/domain';

/** A provider failure as requesters read it (on the grant, in events): the cloud's code first, cut short. */
export function describeError(e: unknown): string {
  const text = e instanceof ProviderError ? `${e.options.code ? e.options.code + ': ' : ''}${e.message}` : e instanceof Error ? e.message : String(e);
  return text.slice(0, MAX_ERROR_LENGTH);
}

/** Anything a provider throws, as a ProviderError; an unexpected error is taken as transient (retried, never final on its own). */
export function toProviderError(e: unknown): ProviderError {
  if (e instanceof ProviderError) return e;
  return new ProviderError('transient', `unexpected provider failure: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/**
 * The one mapping of a cloud's answer to what the caller is told: the request is wrong (400
 * naming the field) or asks past a cloud limit (422 naming it), the cloud refused the broker
 * (502), or it did not answer (503). `action` says what the broker asked for ("the grant", "the
 * broker's lookup"); `grant`, when there is one, is named in the problem.
 */
export function providerErrorToDomain(error: ProviderError, action: string, grant?: Grant): DomainError {
  const extra = grant ? { grantId: grant.id, state: grant.state } : {};
  switch (error.kind) {
    case 'limit':
      return new DomainError('limit_exceeded', error.message, [{ field: error.options.field ?? 'target', message: error.message }], extra);
    case 'invalid':
      return new DomainError('validation', error.message, [{ field: error.options.field ?? 'target', message: error.message }], extra);
    case 'terminal':
      return new DomainError('provider_rejected', `the cloud refused ${action}: ${describeError(error)}`, [], extra);
    case 'transient':
      return new DomainError('provider_unavailable', `the cloud did not answer in time: ${describeError(error)}`, [], extra);
  }
}
