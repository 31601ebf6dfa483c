import { ProviderError } from '@jit/domain';
import { SANDBOX, SandboxClouds, startSandboxClouds } from '../../../apps/sandbox/src/sandbox-clouds';
import { awsGrantSpec } from './aws-grant-spec';

/** The sandbox's AWS adapter serves its own account and one member account, and refuses any other. */
describe('sandbox AWS: two served accounts', () => {
  let clouds: SandboxClouds;
  beforeAll(async () => {
    clouds = await startSandboxClouds();
  });
  afterAll(() => clouds.close());

  it('should grant and reconcile in both accounts and refuse a third', async () => {
    const aws = clouds.providers.find((p) => p.cloud === 'aws')!;
    const target = { kind: 'aws.iam-policy' as const, actions: ['s3:GetObject'], resources: ['arn:aws:s3:::sandbox/*'] };
    const specs = [SANDBOX.aws.account, SANDBOX.aws.memberAccount].map((a) => awsGrantSpec(aws, `arn:aws:iam::${a}:role/${SANDBOX.aws.role}`, target));
    for (const spec of specs) expect((await aws.grant(spec, { overlapping: [] })).status).toBe('active');
    const owned: string[] = [];
    for await (const a of aws.listOwned()) owned.push(a.locator.principalArn as string);
    expect(owned.sort()).toEqual(specs.map((s) => s.principal.id).sort());
    const e = await aws.grant(awsGrantSpec(aws, `arn:aws:iam::222222222222:role/${SANDBOX.aws.role}`, target), { overlapping: [] }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ProviderError);
    expect((e as ProviderError).options).toMatchObject({ field: 'principal.id', code: 'UnservedAccount' });
    for (const spec of specs) await aws.revoke(spec, { overlapping: [], early: true });
  });
});
