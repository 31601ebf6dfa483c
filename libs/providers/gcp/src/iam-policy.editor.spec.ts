import { ProviderError } from '@jit/domain';
import { bindingTitle, expiryExpression } from './broker-binding.convention';
import { PolicyChange, editPolicy } from './iam-policy.editor';
import type { IamPolicy } from './resource-manager.gateway';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
const add = (grantId: string, member = 'user:a@example.com', expiresAt = later(60)): PolicyChange => ({
  type: 'add', grantId, role: 'roles/x.viewer', member, expiresAt, requestedBy: 'user:r@example.com',
});
const remove = (grantId: string, member = 'user:a@example.com'): PolicyChange => ({ type: 'remove', grantId, role: 'roles/x.viewer', member });
const own = (grantId: string, expiresAt: Date, member = 'user:a@example.com') => ({
  role: 'roles/x.viewer', members: [member], condition: { title: bindingTitle(grantId), description: 'd', expression: expiryExpression(expiresAt) },
});
const foreign = { role: 'roles/x.viewer', members: ['user:a@example.com'], condition: { title: bindingTitle('g1'), expression: 'request.time < timestamp("2031-01-01T00:00:00Z")' } };
const base = (bindings: IamPolicy['bindings']): IamPolicy => ({ version: 1, etag: Buffer.from('etag'), bindings, auditConfigs: [{ service: 'allServices' }] });

describe(editPolicy.name, () => {
  it('should add one conditional binding per grant and write version 3 with the etag and audit configs read', () => {
    const { policy, changed, refusals } = editPolicy(base([]), [add('g1'), add('g2')], NOW);
    expect(changed).toBe(true);
    expect(refusals).toEqual([null, null]);
    expect(policy.version).toBe(3);
    expect(policy.etag).toEqual(Buffer.from('etag'));
    expect(policy.auditConfigs).toEqual([{ service: 'allServices' }]);
    expect(policy.bindings!.map((b) => b.condition!.title)).toEqual([bindingTitle('g1'), bindingTitle('g2')]);
  });

  it('should make a repeated grant and a repeated revoke no change at all', () => {
    expect(editPolicy(base([own('g1', later(60))]), [add('g1')], NOW).changed).toBe(false);
    expect(editPolicy(base([]), [remove('g1')], NOW).changed).toBe(false);
  });

  it('should remove only its own binding, never a look-alike one that the broker did not write', () => {
    const { policy } = editPolicy(base([foreign, own('g1', later(5)), own('g2', later(5))]), [remove('g1')], NOW);
    expect(policy.bindings).toEqual([foreign, own('g2', later(5))]);
  });

  it('should purge expired broker bindings and count them', () => {
    const { policy, purged, changed } = editPolicy(base([own('old', later(-1)), foreign, own('live', later(1))]), [], NOW);
    expect(purged).toBe(1);
    expect(changed).toBe(true);
    expect(policy.bindings).toEqual([foreign, own('live', later(1))]);
  });

  it('should refuse the 21st binding for one role and member but apply the rest of the batch', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => own(`g${i}`, later(10)));
    const { refusals, policy } = editPolicy(base(twenty), [add('over'), add('other', 'user:b@example.com')], NOW);
    expect(refusals[0]).toBeInstanceOf(ProviderError);
    expect(refusals[0]).toMatchObject({ kind: 'limit', options: { code: 'gcp.max-bindings-per-role-and-member' } });
    expect(refusals[1]).toBeNull();
    expect(policy.bindings).toHaveLength(21);
  });

  it('should refuse a grant that would pass 1,500 principals', () => {
    const full = base([{ role: 'roles/browser', members: Array.from({ length: 1500 }, (_, i) => `user:u${i}@example.com`) }]);
    expect(editPolicy(full, [add('g')], NOW).refusals[0]).toMatchObject({ kind: 'limit', options: { code: 'gcp.max-principals-per-policy' } });
  });

  it('should move a grant\'s expiry when the same grant is provisioned with a new window', () => {
    const { policy, changed } = editPolicy(base([own('g1', later(5))]), [add('g1', 'user:a@example.com', later(90))], NOW);
    expect(changed).toBe(true);
    expect(policy.bindings![0].condition!.expression).toBe(expiryExpression(later(90)));
  });

  describe('standing members (discovery\'s remove and restore)', () => {
    const standing = { role: 'roles/owner', members: ['user:a@example.com', 'user:b@example.com'] };
    const conditional = { role: 'roles/owner', members: ['user:a@example.com'], condition: { title: 'after', expression: 'request.time > timestamp("2020-01-01T00:00:00Z")' } };
    const detach = (member: string, condition: { expression: string; title?: string } | null = null): PolicyChange => ({ type: 'detach', role: 'roles/owner', member, condition });
    const attach = (member: string, condition: { expression: string; title?: string } | null = null): PolicyChange => ({ type: 'attach', role: 'roles/owner', member, condition });

    it('should take the member out of the unconditional binding only, and drop a binding left empty', () => {
      const { policy, changed } = editPolicy(base([standing, conditional, own('g1', later(60))]), [detach('user:a@example.com')], NOW);
      expect(changed).toBe(true);
      expect(policy.bindings).toEqual([{ role: 'roles/owner', members: ['user:b@example.com'] }, conditional, own('g1', later(60))]);
      const gone = editPolicy(base([conditional]), [detach('user:a@example.com', conditional.condition)], NOW);
      expect(gone.policy.bindings).toEqual([]);
    });

    it('should make removing an absent member and restoring a present one no change', () => {
      expect(editPolicy(base([standing]), [detach('user:c@example.com')], NOW).changed).toBe(false);
      expect(editPolicy(base([standing]), [detach('user:a@example.com', conditional.condition)], NOW).changed).toBe(false);
      expect(editPolicy(base([standing]), [attach('user:a@example.com')], NOW).changed).toBe(false);
    });

    it('should put the member back in its binding, or recreate the binding with its condition', () => {
      expect(editPolicy(base([{ role: 'roles/owner', members: ['user:b@example.com'] }]), [attach('user:a@example.com')], NOW).policy.bindings).toEqual([{ role: 'roles/owner', members: ['user:b@example.com', 'user:a@example.com'] }]);
      const recreated = editPolicy(base([standing]), [attach('user:a@example.com', conditional.condition)], NOW);
      expect(recreated.policy.bindings).toEqual([standing, conditional]);
      expect(recreated.policy.version).toBe(3);
    });

    it('should refuse a restore that would pass 1,500 principals', () => {
      const full = base([{ role: 'roles/browser', members: Array.from({ length: 1500 }, (_, i) => `user:u${i}@example.com`) }]);
      expect(editPolicy(full, [attach('user:a@example.com')], NOW).refusals[0]).toMatchObject({ kind: 'limit' });
    });
  });
});
