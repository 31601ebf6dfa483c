import { GrantSpec, ProviderError } from '@jit/domain';
import { AwsSimulator } from '@jit/sim-aws';
import { ConnectionWatchProxy } from '@jit/testing';
import { awsGrantSpec } from './aws-grant-spec';
import { awsTestProvider } from './aws-test-provider';

/**
 * The caller's AbortSignal (the lifecycle's JIT_PROVIDER_TIMEOUT) cancels the SDK call itself:
 * the simulator's side of the connection is closed unanswered, and no retry follows.
 */
describe('AWS adapter cancellation', () => {
  let sim: AwsSimulator;
  let proxy: ConnectionWatchProxy;
  let roles = 0;

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    proxy = await ConnectionWatchProxy.start(sim.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    await sim.close();
  });
  afterEach(() => sim.inject({ latencyMs: 0 }));

  const provider = () =>
    awsTestProvider(sim, { iamEndpoint: proxy.endpoint, stsEndpoint: proxy.endpoint, requestTimeoutMs: 60_000, retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 2 } });
  const spec = (p: ReturnType<typeof provider>): GrantSpec =>
    awsGrantSpec(p, sim.createRole(`cancel-${++roles}`), { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::cancel/*'] });

  it('should close the connection of a call in flight when the caller aborts, and start no retry', async () => {
    const aws = provider();
    const s = spec(aws);
    await aws.healthCheck(); // the broker's identity, read once, is not what this test aborts
    sim.clearRequests();
    sim.inject({ latencyMs: 2_000 });
    const caller = new AbortController();
    const granting = aws.grant(s, { overlapping: [] }, caller.signal);
    // Abort once the first request is at the simulator (polled, not timed).
    while (sim.requests().length === 0) await new Promise((r) => setImmediate(r));
    const closedBefore = proxy.closedUnanswered;
    caller.abort();
    const error = await granting.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeDefined();
    expect(error).not.toBeInstanceOf(ProviderError);
    expect(error?.name).toBe('AbortError');
    while (proxy.closedUnanswered === closedBefore) await new Promise((r) => setImmediate(r));
    expect(proxy.closedUnanswered).toBe(closedBefore + 1);
    expect(sim.requests()).toHaveLength(1);
  });

  it('should start no call at all when the signal is already aborted', async () => {
    const aws = provider();
    const s = spec(aws);
    sim.clearRequests();
    const error = await aws.grant(s, { overlapping: [] }, AbortSignal.abort()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe('AbortError');
    expect(sim.requests()).toHaveLength(0);
  });

  it('should still answer when the signal is never aborted', async () => {
    const aws = provider();
    const s = spec(aws);
    await expect(aws.grant(s, { overlapping: [] }, new AbortController().signal)).resolves.toMatchObject({ status: 'active' });
  });
});
