import { ScopedLogger, assignLogFields, createBrokerLogger, prettyLine, runInLogScope } from './broker-logger';
import { LogRedactor } from './log-redaction';

function capture(level: 'info' | 'warn' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const root = createBrokerLogger({ level, format: 'json', redactor: new LogRedactor().add('s3cret-value-1'), destination: { write: (l: string) => lines.push(JSON.parse(l)) } });
  return { root, lines, nest: new ScopedLogger(root) };
}

describe(ScopedLogger.name, () => {
  it('should write what Nest passes (message, then stack, then the context) as one JSON line', () => {
    const { nest, lines } = capture();
    nest.log('started', 'Broker');
    nest.error('failed', 'Error: x\n    at y', 'HTTP');
    nest.warn('careful');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', context: 'Broker', msg: 'started', time: expect.any(String) }),
      expect.objectContaining({ level: 'error', context: 'HTTP', msg: 'failed', stack: 'Error: x\n    at y' }),
      expect.objectContaining({ level: 'warn', msg: 'careful' }),
    ]);
  });

  it('should write through the scope of the request, with the fields assigned so far', async () => {
    const { nest, lines, root } = capture();
    await runInLogScope(root.child({ reqId: 'r-1' }), async () => {
      nest.log('before', 'A');
      await new Promise((r) => setImmediate(r));
      expect(assignLogFields({ grantId: 'g-1' })).toEqual({ grantId: 'g-1' });
      assignLogFields({ actor: 'dev' });
      nest.log('after', 'A');
    });
    nest.log('outside', 'A');
    expect(lines.map(({ msg, reqId, grantId, actor }) => ({ msg, reqId, grantId, actor }))).toEqual([
      { msg: 'before', reqId: 'r-1', grantId: undefined, actor: undefined },
      { msg: 'after', reqId: 'r-1', grantId: 'g-1', actor: 'dev' },
      { msg: 'outside', reqId: undefined, grantId: undefined, actor: undefined },
    ]);
    expect(assignLogFields({ grantId: 'x' })).toBeNull();
  });

  it('should drop lines below the level and scrub secrets from those it writes', () => {
    const { nest, lines } = capture('warn');
    nest.log('not written');
    nest.warn('token s3cret-value-1 refused', 'Auth');
    expect(lines).toEqual([expect.objectContaining({ msg: 'token [REDACTED] refused' })]);
  });
});

describe('prettyLine', () => {
  it('should show time, level, context, message and the other fields', () => {
    const line = JSON.stringify({ level: 'info', time: '2026-12-05T08:00:01.234Z', pid: 1, hostname: 'h', context: 'HTTP', msg: 'POST /v1/grants 201', reqId: 'r-1', status: 201 });
    expect(prettyLine(line)).toBe('08:00:01.234 INFO  [HTTP] POST /v1/grants 201  reqId=r-1 status=201\n');
  });
});
