import { Clock } from '@jit/domain';
import { AwsIamStsProvider, AwsProviderOptions } from '@jit/provider-aws';
import { AwsSimulator } from '@jit/sim-aws';

/** The real adapter pointed at the simulator, with millisecond backoff so retries do not slow the suite. */
export function awsTestProvider(sim: AwsSimulator, overrides: Partial<AwsProviderOptions> & { clock?: Clock } = {}): AwsIamStsProvider {
  return new AwsIamStsProvider({
    region: 'us-east-1',
    iamEndpoint: sim.endpoint,
    stsEndpoint: sim.endpoint,
    credentials: { accessKeyId: 'AKIAJITBROKERTEST000', secretAccessKey: 'test-secret' },
    retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 4 },
    requestTimeoutMs: 5_000,
    ...overrides,
  });
}
