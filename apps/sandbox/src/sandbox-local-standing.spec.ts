import { CLOUDS } from '@jit/domain';
import { DEFAULT_PRIVILEGE_CRITERIA, checkProposal, judge, proposeRule } from '@jit/discovery';
import { LocalCloudProvider } from '@jit/provider-local';
import { targetKinds } from '@jit/testing';
import { seedLocalStanding } from './sandbox-local-standing';

/** The in-memory sandbox's standing access: something privileged and unused in each cloud, and every proposal loadable. */
describe('sandbox standing access (in-memory clouds)', () => {
  it.each(CLOUDS)('should seed %s with privileged assignments whose proposed rules the checker accepts', async (cloud) => {
    const local = new LocalCloudProvider(cloud, targetKinds);
    seedLocalStanding(local);
    const inventory = local.standingInventory();
    const listed = [];
    for (const part of await inventory.parts()) {
      let cursor: string | null = null;
      do {
        const page = await inventory.page(part, cursor);
        listed.push(...page.assignments);
        cursor = page.cursor;
      } while (cursor);
    }
    expect(listed.filter((a) => judge(a, DEFAULT_PRIVILEGE_CRITERIA).privileged).length).toBeGreaterThan(0);
    for (const a of listed) expect(checkProposal(proposeRule(a), targetKinds)).toEqual([]);
  });
});
