import { ProviderError } from '@jit/domain';
import { describeError, providerErrorToDomain, toProviderError } from './provider-failure';

describe('providerErrorToDomain', () => {
  it.each([
    ['limit', 'limit_exceeded', [{ field: 'duration', message: 'too long' }]],
    ['invalid', 'validation', [{ field: 'duration', message: 'too long' }]],
  ] as const)('should turn a %s error into %s naming its field', (kind, code, issues) => {
    const e = providerErrorToDomain(new ProviderError(kind, 'too long', { field: 'duration' }), 'the grant');
    expect(e).toMatchObject({ code, message: 'too long', issues, extra: {} });
  });

  it('should name the target when the cloud names no field', () => {
    expect(providerErrorToDomain(new ProviderError('invalid', 'no such role'), "the broker's lookup").issues).toEqual([{ field: 'target', message: 'no such role' }]);
  });

  it('should say what the cloud refused or left unanswered, with its error code, and name the grant when there is one', () => {
    const grant = { id: 'g-1', state: 'failed' } as never;
    expect(providerErrorToDomain(new ProviderError('terminal', 'denied', { code: 'AccessDenied' }), 'the grant', grant)).toMatchObject({
      code: 'provider_rejected',
      message: 'the cloud refused the grant: AccessDenied: denied',
      extra: { grantId: 'g-1', state: 'failed' },
    });
    expect(providerErrorToDomain(new ProviderError('transient', 'slow'), "the broker's lookup")).toMatchObject({
      code: 'provider_unavailable',
      message: 'the cloud did not answer in time: slow',
    });
  });
});

describe('describeError', () => {
  it('should keep errors short and take anything unexpected as transient', () => {
    expect(describeError(new Error('x'.repeat(900)))).toHaveLength(500);
    expect(toProviderError(new TypeError('boom'))).toMatchObject({ kind: 'transient', message: 'unexpected provider failure: boom' });
  });
});
