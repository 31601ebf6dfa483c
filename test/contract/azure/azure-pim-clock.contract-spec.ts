import { AzureSimulator } from '@jit/sim-azure';
import { MECHANISMS, specFactory } from './azure-harness.factory';
import { providerFor, startSeededSimulator } from './azure-world.fixture';

const MINUTE = 60_000;

/**
 * The live PIM assignment is judged at the adapter's injected clock (the broker's), not the
 * host's: the same simulator state reads as active at the grant's middle and as ended after its
 * end. Graph (directory roles, PIM for Groups) and ARM (resource roles) alike.
 */
describe.each([MECHANISMS.directoryRole, MECHANISMS.resourceRoleUser, MECHANISMS.groupMembership])('$name: PIM read at the adapter clock', (c) => {
  let sim: AzureSimulator;
  beforeAll(async () => {
    sim = await startSeededSimulator();
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('should see the assignment active at its middle and no longer active once its end has passed', async () => {
    const granting = providerFor(sim);
    const spec = specFactory(granting, c)({ expiresAt: new Date(Date.now() + 60 * MINUTE) });
    await expect(granting.grant(spec, { overlapping: [] })).resolves.toMatchObject({ status: 'active' });

    const middle = providerFor(sim, { now: () => new Date(spec.startsAt.getTime() + 30 * MINUTE) });
    await expect(middle.status(spec)).resolves.toMatchObject({ status: 'active' });

    const after = providerFor(sim, { now: () => new Date(spec.expiresAt.getTime() + MINUTE) });
    const late = await after.status(spec);
    expect(late.status).not.toBe('active');
  });
});
