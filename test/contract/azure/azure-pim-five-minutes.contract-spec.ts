import { setTimeout as sleep } from 'node:timers/promises';
import { GrantSpec, ProviderError } from '@jit/domain';
import { AzureSimulator } from '@jit/sim-azure';
import { MECHANISMS, holdsQuery, specFactory } from './azure-harness.factory';
import { providerFor, startSeededSimulator } from './azure-world.fixture';

const alone = { overlapping: [] };
const MINUTE = 60_000;
/** Short enough to wait out in a test; the adapter still assumes PIM's five minutes. */
const SHORT_WINDOW_MS = 1_500;

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

const PIM_KINDS = [MECHANISMS.directoryRole, MECHANISMS.resourceRoleUser, MECHANISMS.groupMembership];

/**
 * Issue 18 point 1: PIM refuses an assignment shorter than five minutes and the removal of one
 * within five minutes of its being made (`ActiveDurationTooShort`, Graph and ARM alike).
 */
describe.each(PIM_KINDS)('$name: PIM five-minute rules', (c) => {
  let sim: AzureSimulator;
  let quick: AzureSimulator;
  beforeAll(async () => {
    sim = await startSeededSimulator();
    quick = await startSeededSimulator({ pimRemovalWindowMs: SHORT_WINDOW_MS });
  });
  afterAll(async () => {
    await sim?.close();
    await quick?.close();
  });
  const holds = (s: AzureSimulator, spec: GrantSpec) => s.holds(spec.principal.id, holdsQuery(spec.target), new Date());

  it('should refuse a grant shorter than five minutes before any call, naming duration', async () => {
    const provider = providerFor(sim);
    const spec = specFactory(provider, c)({ expiresAt: new Date(Date.now() + 5 * MINUTE - 1_000) });
    const calls = sim.calls.length;
    expect(() => provider.validate(spec)).toThrow(expect.objectContaining({ kind: 'invalid', options: expect.objectContaining({ field: 'duration' }) }));
    expect(() => provider.validate(spec)).toThrow(/five minutes/);
    const e = await failure(provider.grant(spec, alone));
    expect(e.options.field).toBe('duration');
    expect(sim.calls.length).toBe(calls);
    // Exactly five minutes is allowed.
    expect(() => provider.validate({ ...spec, expiresAt: new Date(spec.startsAt.getTime() + 5 * MINUTE) })).not.toThrow();
  });

  it('should grant exactly PT5M when the call comes in the second after the grant started', async () => {
    const provider = providerFor(sim);
    // Requested at the last millisecond of a second and provisioned in the next one: PIM must
    // still get five whole minutes, ending no later than expiresAt.
    const startsAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 1);
    const spec = { ...specFactory(provider, c)({ expiresAt: new Date(startsAt.getTime() + 5 * MINUTE), variant: 2 }), startsAt };
    expect(() => provider.validate(spec)).not.toThrow();
    await expect(provider.grant(spec, alone)).resolves.toMatchObject({ status: 'active' });
    const [made] = sim.pimSchedules(spec.principal.id, holdsQuery(spec.target) as Parameters<AzureSimulator['pimSchedules']>[1]);
    expect(made.end!.getTime() - made.start.getTime()).toBe(5 * MINUTE);
    expect(made.end!.getTime()).toBeLessThanOrEqual(spec.expiresAt.getTime());
    expect(holds(sim, spec)).toBe(true);
  });

  it('should be refused by the simulator too when less than five minutes are left at grant time', async () => {
    const provider = providerFor(sim);
    // Requested for ten minutes six minutes ago (a late recovery): validate passes, PIM would not.
    const now = Date.now();
    const spec = { ...specFactory(provider, c)({ expiresAt: new Date(now + 4 * MINUTE) }), startsAt: new Date(now - 6 * MINUTE) };
    const e = await failure(provider.grant(spec, alone));
    expect(e).toMatchObject({ kind: 'invalid', options: { field: 'duration', code: 'ActiveDurationTooShort' } });
    expect(sim.calls.at(-1)).toMatchObject({ method: expect.stringMatching(/POST|PUT/), status: 400 });
    expect(holds(sim, spec)).toBe(false);
  });

  it('should report an early revoke inside the window as a retry at assignment time + 5 min, access still bounded by the schedule', async () => {
    const provider = providerFor(sim);
    const spec = specFactory(provider, c)({ expiresAt: new Date(Date.now() + 30 * MINUTE), variant: 1 });
    await provider.grant(spec, alone);
    const [made] = sim.pimSchedules(spec.principal.id, holdsQuery(spec.target) as Parameters<AzureSimulator['pimSchedules']>[1]);
    const before = Date.now();
    const e = await failure(provider.revoke(spec, { overlapping: [], early: true }));
    expect(e).toMatchObject({ kind: 'transient', options: { code: 'ActiveDurationTooShort' } });
    const retryAt = before + e.options.retryAfterMs!;
    expect(retryAt).toBeGreaterThanOrEqual(made.createdAt.getTime() + 5 * MINUTE);
    expect(retryAt).toBeLessThanOrEqual(made.createdAt.getTime() + 6 * MINUTE);
    expect(e.message).toContain(made.end!.toISOString());
    // Still held, and still ending at the grant's end in the cloud.
    expect(holds(sim, spec)).toBe(true);
    expect(made.end!.getTime()).toBeLessThanOrEqual(spec.expiresAt.getTime());
  });

  it('should succeed when the revoke is retried after the window', async () => {
    const provider = providerFor(quick);
    const spec = specFactory(provider, c)({ expiresAt: new Date(Date.now() + 30 * MINUTE), variant: 2 });
    await provider.grant(spec, alone);
    const e = await failure(provider.revoke(spec, { overlapping: [], early: true }));
    expect(e.retryable).toBe(true);
    expect(holds(quick, spec)).toBe(true);
    // The broker's sweeper retries at nextAttemptAt; here, poll until the (shortened) window has passed.
    const deadline = Date.now() + 20 * SHORT_WINDOW_MS;
    for (;;) {
      const outcome = await provider.revoke(spec, { overlapping: [], early: true }).then(
        () => 'done',
        (x: unknown) => (x instanceof ProviderError && x.options.code === 'ActiveDurationTooShort' && Date.now() < deadline ? 'again' : Promise.reject(x)),
      );
      if (outcome === 'done') break;
      await sleep(100);
    }
    expect(holds(quick, spec)).toBe(false);
    expect((await provider.status(spec)).status).toBe('absent');
  });

  it('should not shorten a shared schedule below five minutes, and retry once the overlapping grant ends', async () => {
    const provider = providerFor(quick);
    const now = Date.now();
    const keeper = specFactory(provider, c)({ expiresAt: new Date(now + 4 * MINUTE), variant: 0 });
    const longer = specFactory(provider, c)({ expiresAt: new Date(now + 30 * MINUTE), variant: 0 });
    // The keeper was requested earlier, for longer than five minutes in all.
    const keeperSpec = { ...keeper, startsAt: new Date(now - 2 * MINUTE) };
    await provider.grant(longer, { overlapping: [keeperSpec] });
    const e = await failure(provider.revoke(longer, { overlapping: [keeperSpec], early: true }));
    expect(e).toMatchObject({ kind: 'transient', options: { code: 'ActiveDurationTooShort' } });
    expect(e.options.retryAfterMs).toBeGreaterThan(3 * MINUTE);
    expect(e.options.retryAfterMs).toBeLessThanOrEqual(4 * MINUTE + 1_000);
    expect(holds(quick, longer)).toBe(true);
    // Nothing was sent that PIM would refuse.
    expect(quick.calls.at(-1)).toMatchObject({ method: 'GET' });
  });
});
