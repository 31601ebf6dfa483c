import { classifyGoogleError } from './resource-manager.gateway';

const gaxios = (status: number, envelope?: object) => Object.assign(new Error(envelope ? JSON.stringify(envelope) : 'Request failed'), { status, response: { status } });

describe(classifyGoogleError.name, () => {
  it.each([
    [gaxios(409, { error: { code: 409, message: 'm', status: 'ABORTED' } }), 'conflict', 'ABORTED'],
    [gaxios(412), 'conflict', 'HTTP_412'],
    [gaxios(429, { error: { code: 429, message: 'm', status: 'RESOURCE_EXHAUSTED' } }), 'transient', 'RESOURCE_EXHAUSTED'],
    [gaxios(502), 'transient', 'HTTP_502'],
    [gaxios(403, { error: { code: 403, message: 'm', status: 'PERMISSION_DENIED' } }), 'terminal', 'PERMISSION_DENIED'],
    [gaxios(404, { error: { code: 404, message: 'm', status: 'NOT_FOUND' } }), 'terminal', 'NOT_FOUND'],
    [gaxios(400, { error: { code: 400, message: 'm', status: 'INVALID_ARGUMENT' } }), 'invalid', 'INVALID_ARGUMENT'],
    [Object.assign(new Error('x'), { code: 14 }), 'transient', 'UNAVAILABLE'],
    [Object.assign(new Error('x'), { code: 10 }), 'conflict', 'ABORTED'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'transient', 'ECONNREFUSED'],
  ])('should classify %s', (error, kind, code) => {
    expect(classifyGoogleError(error)).toMatchObject({ kind, code });
  });

  it('should carry Google\'s message rather than the raw envelope', () => {
    expect(classifyGoogleError(gaxios(409, { error: { code: 409, message: 'concurrent', status: 'ABORTED' } })).message).toBe('concurrent');
  });
});
