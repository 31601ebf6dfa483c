import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsSimulator } from '@jit/sim-aws';
import { awsTestProvider } from '../contract/aws/aws-test-provider';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

const OWN = '123456789012';
const MEMBER = '111111111111';
const STRANGER = '222222222222';
const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

/**
 * Issue 10 point 5 with real rules in front: rules that only name principals of the broker's own
 * account (as the sandbox's do) must not turn an ARN in an account the broker does not serve into
 * a 403 from the rules. The account is checked before the rules, like Azure's principal type, so
 * the answer is the 400 naming the field whatever the rules say, for the dry run too.
 */
describe('AWS: an unserved account is a 400 naming the field before the rules judge the request', () => {
  let sim: AwsSimulator;
  let t: TestBroker;

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    for (const account of [OWN, STRANGER]) sim.createRole('ci-deployer', { accountId: account });
    const rules = join(mkdtempSync(join(tmpdir(), 'jit-rules-')), 'rules.yaml');
    writeFileSync(
      rules,
      [
        'version: 1',
        'rules:',
        '  - name: own-account-only',
        '    requesters: [{ subjects: ["*"] }]',
        '    targets:',
        `      - { kind: aws.iam-policy, actions: ["*"], resources: ["*"], principals: ["arn:aws:iam::${OWN}:role/*"] }`,
        `      - { kind: aws.sts-credentials, roleArns: ["arn:aws:iam::${OWN}:role/*"] }`,
        '    maxDuration: PT8H',
        '    approval: auto',
        '',
      ].join('\n'),
    );
    t = await startTestBroker({ JIT_POLICY_FILE: rules }, { providers: [awsTestProvider(sim, { memberAccounts: [MEMBER] })] });
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  it('should answer 400 naming principal.id, not the rules\' 403, and write nothing', async () => {
    const body = awsPolicyGrant({ principal: { type: 'workload', id: role(STRANGER, 'ci-deployer') } });
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(body).expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'principal.id', message: expect.stringContaining('does not serve') })]);
    const dry = await t.http.post('/v1/policy/evaluate').set(t.as('alice')).send(body).expect(400);
    expect(dry.body.errors[0]).toMatchObject({ field: 'principal.id' });
    expect(sim.inlinePolicies(role(STRANGER, 'ci-deployer'))).toEqual({});
  });

  it('should answer 400 naming target.roleArn for a session in an unserved account', async () => {
    const res = await t.http
      .post('/v1/grants')
      .set(t.as('alice'))
      .send({ cloud: 'aws', principal: { type: 'workload', id: 'pipeline:release' }, target: { kind: 'aws.sts-credentials', roleArn: role(STRANGER, 'ci-deployer') }, duration: 'PT30M', justification: 'deploy' })
      .expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'target.roleArn', message: expect.stringContaining('does not serve') })]);
    expect(sim.requests().some((r) => r.action === 'AssumeRole' && r.params.RoleArn === role(STRANGER, 'ci-deployer'))).toBe(false);
  });

  it('should still let the rules judge served accounts (a member account the rules do not name is their 403)', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ principal: { type: 'workload', id: role(MEMBER, 'ci-deployer') } })).expect(403);
    expect(res.body.type).toBe('urn:jit-broker:problem:policy_denied');
  });
});
