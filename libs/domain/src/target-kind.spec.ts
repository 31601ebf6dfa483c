import { z } from 'zod';
import { targetKinds } from '@jit/testing';
import { TargetKindDescriptor, TargetKinds, defineTargetKind, rulePatterns } from './target-kind';
import { matchPatterns } from './target-matching';

const kindNamed = (kind: string, cloud: 'aws' | 'azure' | 'gcp', literal = kind): TargetKindDescriptor =>
  defineTargetKind({
    kind,
    cloud,
    target: z.strictObject({ kind: z.literal(literal), name: z.string() }),
    principals: { types: ['user'], id: /^.+$/, idMessage: 'must not be empty' },
    rules: { fields: { names: rulePatterns }, matches: (m, t, relation) => matchPatterns(m.names, t.name, false, relation) },
  });

describe(TargetKinds.name, () => {
  it('should refuse a kind described twice, named after another cloud, or whose schema names another kind', () => {
    expect(() => new TargetKinds([kindNamed('gcp.x', 'gcp'), kindNamed('gcp.x', 'gcp')])).toThrow('target kind gcp.x is described twice');
    expect(() => new TargetKinds([kindNamed('aws.x', 'gcp')])).toThrow('must be named <cloud>.<name> after its cloud gcp');
    expect(() => new TargetKinds([kindNamed('gcp.', 'gcp')])).toThrow('must be named <cloud>.<name>');
    expect(() => new TargetKinds([kindNamed('gcp.x', 'gcp', 'gcp.y')])).toThrow("its schema's kind must be the literal gcp.x");
    expect(() => new TargetKinds([])).toThrow('no target kinds');
  });

  it('should keep the order described, which the problem for an unknown kind lists', () => {
    const kinds = new TargetKinds([kindNamed('gcp.b', 'gcp'), kindNamed('aws.a', 'aws')]);
    expect(kinds.names).toEqual(['gcp.b', 'aws.a']);
    expect(kinds.ofCloud('aws').map((d) => d.kind)).toEqual(['aws.a']);
    expect(kinds.has('gcp.b') && !kinds.has('gcp.a')).toBe(true);
    expect(() => kinds.get('gcp.a')).toThrow('unknown target kind gcp.a');
  });

  it('should parse any registered target by its kind, and refuse the fields of another', () => {
    const kinds = new TargetKinds([kindNamed('gcp.b', 'gcp'), kindNamed('aws.a', 'aws')]);
    expect(kinds.targetSchema.parse({ kind: 'aws.a', name: 'n' })).toEqual({ kind: 'aws.a', name: 'n' });
    expect(kinds.targetSchema.safeParse({ kind: 'aws.a', name: 'n', other: 1 }).success).toBe(false);
    expect(kinds.targetSchema.safeParse({ kind: 'gcp.c', name: 'n' }).success).toBe(false);
  });
});

describe('the three clouds described by their provider libs', () => {
  const user = { type: 'user', id: 'u' } as const;
  const workload = { type: 'workload', id: 'w' } as const;

  it('should register the kinds the broker always served, in the order it always listed them', () => {
    expect(targetKinds.names).toEqual([
      'azure.directory-role',
      'azure.resource-role',
      'azure.group-membership',
      'azure.app-role',
      'aws.iam-policy',
      'aws.assume-role',
      'aws.sts-credentials',
      'aws.permission-set',
      'gcp.iam-binding',
      'gcp.group-membership',
    ]);
  });

  it('should leave to the sweeper alone the app roles, the resource roles of workloads (plain role assignments) and Identity Center assignments', () => {
    const sweeperOnly = (principal: typeof user | typeof workload) =>
      targetKinds.all().filter((d) => d.enforcement(principal) === 'sweeper').map((d) => d.kind);
    expect(sweeperOnly(user)).toEqual(['azure.app-role', 'aws.permission-set']);
    expect(sweeperOnly(workload)).toEqual(['azure.resource-role', 'azure.app-role', 'aws.permission-set']);
  });

  it('should vend credentials for aws.sts-credentials only, and name aws.assume-role to ask for instead', () => {
    expect(targetKinds.all().filter((d) => d.vendsCredentials).map((d) => [d.kind, d.approvalAlternative])).toEqual([
      ['aws.sts-credentials', 'aws.assume-role'],
    ]);
  });

  it('should match IAM principals of the IAM kinds by name, and other principals as written', () => {
    const canonical = (kind: string, id: string) => targetKinds.get(kind).rules.canonicalPrincipal?.(id) ?? id;
    expect(canonical('aws.iam-policy', 'arn:aws:iam::123456789012:role/ci/Deployer')).toBe('arn:aws:iam::123456789012:role/deployer');
    expect(canonical('aws.assume-role', 'arn:aws:iam::123456789012:user/a/b/Carol')).toBe('arn:aws:iam::123456789012:user/carol');
    expect(canonical('aws.sts-credentials', 'Session/Name')).toBe('Session/Name');
    expect(canonical('gcp.iam-binding', 'user:Alice@example.com')).toBe('user:Alice@example.com');
  });
});
