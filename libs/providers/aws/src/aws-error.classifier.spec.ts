import { toProviderError } from './aws-error.classifier';

/** What the SDKs throw: a modeled exception's name and the HTTP status of the answer. */
const sdkError = (name: string, status: number) => Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status } });

describe('toProviderError for Identity Center, Identity Store and Organizations answers', () => {
  it.each([
    ['ThrottlingException', 400, 'transient'],
    ['TooManyRequestsException', 400, 'transient'],
    // sso-admin's ConflictException: a write still propagating, or another operation on the set; AWS says retry.
    ['ConflictException', 409, 'transient'],
    ['InternalServerException', 500, 'transient'],
    ['ServiceQuotaExceededException', 402, 'limit'],
    ['ValidationException', 400, 'invalid'],
    ['ResourceNotFoundException', 404, 'terminal'],
    ['AccessDeniedException', 403, 'terminal'],
  ])('should classify %s (%d) as %s', (name, status, kind) => {
    const e = toProviderError(sdkError(name, status), 'CreateAccountAssignment');
    expect(e.kind).toBe(kind);
    expect(e.message).toMatch(new RegExp(`^CreateAccountAssignment: ${name.replace(/Exception$/, '')}: `));
  });
});
