import { randomUUID } from 'node:crypto';
import { CloudAccessProvider, GrantContext, GrantSpec, OwnedArtifact, ProviderError, ReconcileScope } from '@jit/domain';

/** What a cloud adapter's contract run needs from its simulator. */
export interface ContractHarness {
  provider: CloudAccessProvider;
  /**
   * A valid spec for this provider. `variant` picks a different principal (same target), so
   * tests can tell overlap from independence. The spec's artifactName must come from the provider.
   */
  spec(options?: { grantId?: string; expiresAt?: Date; variant?: number }): GrantSpec;
  /** Does the cloud (the simulator's own evaluation) give the spec's access at time `at`? */
  holds(spec: GrantSpec, at: Date): Promise<boolean>;
  /** The next `count` cloud calls answer with throttling (429 / Throttling). */
  throttleNext(count: number): void;
  /** The next `count` cloud calls answer with a 5xx. */
  failNext(count: number): void;
  /** A second adapter instance on the same cloud, as a restarted broker would build it. */
  restartedProvider(): CloudAccessProvider;
  /** False for kinds where only the sweeper ends access (ARM role assignments, app roles). */
  cloudSideExpiry: boolean;
  /**
   * The deadlines the cloud stored for the spec's access, read from the simulator's own state
   * (policy conditions, binding expressions, schedule ends), never from the adapter's answer.
   */
  cloudDeadlines?(spec: GrantSpec): Promise<Date[]>;
  close(): Promise<void>;
}

const alone = (): GrantContext => ({ overlapping: [] });

/** The scope reconciliation would read from the database, holding these grants. */
const scopeOf = (...specs: GrantSpec[]): ReconcileScope => ({ subjects: async () => specs.map((s) => ({ principal: s.principal, target: s.target })) });

async function expectProviderError(promise: Promise<unknown>, kind: ProviderError['kind']): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  expect((error as ProviderError).kind).toBe(kind);
  return error as ProviderError;
}

/**
 * The one contract every cloud adapter passes against its simulator (style.md section 7):
 * grant, read back, revoke, revoke again, overlap, throttling, faults, cancellation, crash recovery.
 */
export function describeProviderContract(name: string, create: () => Promise<ContractHarness>): void {
  describe(`${name} provider contract`, () => {
    let h: ContractHarness;
    beforeAll(async () => {
      h = await create();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('should grant access that the cloud holds now and, with cloud-side expiry, not after expiresAt', async () => {
      const spec = h.spec();
      const outcome = await h.provider.grant(spec, alone());
      expect(['active', 'pending']).toContain(outcome.status);
      expect(await h.holds(spec, new Date())).toBe(true);
      if (h.cloudSideExpiry) {
        expect(await h.holds(spec, new Date(spec.expiresAt.getTime() + 1000))).toBe(false);
      }
      expect((await h.provider.status(spec)).status).toMatch(/active|pending/);
      await h.provider.revoke(spec, { overlapping: [], early: true });
    });

    it('should never let the cloud-side deadline fall after expiresAt, even when expiresAt carries milliseconds', async () => {
      if (!h.cloudSideExpiry) return;
      // .999: a deadline rounded up to the second would outlive the grant by 1 ms to 1 s.
      const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000 + 999);
      const spec = h.spec({ expiresAt });
      await h.provider.grant(spec, alone());
      expect(await h.holds(spec, new Date(expiresAt.getTime() - 1_500))).toBe(true);
      expect(await h.holds(spec, expiresAt)).toBe(false);
      if (h.cloudDeadlines) {
        const deadlines = await h.cloudDeadlines(spec);
        expect(deadlines.length).toBeGreaterThan(0);
        for (const d of deadlines) {
          expect(d.getTime()).toBeLessThanOrEqual(expiresAt.getTime());
          expect(d.getTime()).toBeGreaterThan(expiresAt.getTime() - 2_000);
        }
      }
      await h.provider.revoke(spec, { overlapping: [], early: false });
    });

    it('should end access on revoke, and treat a second revoke and an unknown grant as done', async () => {
      const spec = h.spec();
      await h.provider.grant(spec, alone());
      await h.provider.revoke(spec, { overlapping: [], early: true });
      expect(await h.holds(spec, new Date())).toBe(false);
      expect((await h.provider.status(spec)).status).toBe('absent');
      await h.provider.revoke(spec, { overlapping: [], early: true });
      await h.provider.revoke(h.spec(), { overlapping: [], early: false });
    });

    it('should make a repeated grant a single grant', async () => {
      const spec = h.spec();
      await h.provider.grant(spec, alone());
      await h.provider.grant(spec, alone());
      const owned = [];
      for await (const a of h.provider.listOwned(undefined, scopeOf(spec))) if (a.grantId === spec.grantId) owned.push(a);
      expect(owned).toHaveLength(1);
      await h.provider.revoke(spec, { overlapping: [], early: false });
    });

    it('should keep an overlapping grant working when the other one is revoked', async () => {
      const first = h.spec({ expiresAt: new Date(Date.now() + 30 * 60_000) });
      const second = h.spec({ expiresAt: new Date(Date.now() + 60 * 60_000) });
      expect(h.provider.overlapKey(first.principal, first.target)).toBe(h.provider.overlapKey(second.principal, second.target));
      await h.provider.grant(first, alone());
      await h.provider.grant(second, { overlapping: [first] });
      await h.provider.revoke(first, { overlapping: [second], early: true });
      expect(await h.holds(second, new Date())).toBe(true);
      await h.provider.revoke(second, { overlapping: [], early: true });
      expect(await h.holds(second, new Date())).toBe(false);
    });

    it('should not let one principal\'s revoke touch another principal\'s grant', async () => {
      const a = h.spec({ variant: 1 });
      const b = h.spec({ variant: 2 });
      expect(h.provider.overlapKey(a.principal, a.target)).not.toBe(h.provider.overlapKey(b.principal, b.target));
      await h.provider.grant(a, alone());
      await h.provider.grant(b, alone());
      await h.provider.revoke(a, { overlapping: [], early: true });
      expect(await h.holds(b, new Date())).toBe(true);
      await h.provider.revoke(b, { overlapping: [], early: true });
    });

    it('should ride out brief throttling and report persistent throttling as retryable', async () => {
      const spec = h.spec();
      h.throttleNext(1);
      await h.provider.grant(spec, alone());
      expect(await h.holds(spec, new Date())).toBe(true);
      h.throttleNext(1000);
      await expectProviderError(h.provider.revoke(spec, { overlapping: [], early: true }), 'transient');
      h.throttleNext(0);
      await h.provider.revoke(spec, { overlapping: [], early: true });
      expect(await h.holds(spec, new Date())).toBe(false);
    });

    it('should report persistent 5xx faults as retryable and leave nothing half-done', async () => {
      const spec = h.spec();
      h.failNext(1000);
      await expectProviderError(h.provider.grant(spec, alone()), 'transient');
      h.failNext(0);
      await h.provider.revoke(spec, { overlapping: [], early: false });
      expect(await h.holds(spec, new Date())).toBe(false);
    });

    it('should change nothing in the cloud for a call whose signal is already aborted, and reject it', async () => {
      const spec = h.spec();
      const rejected = async (call: Promise<unknown>) => {
        const outcome = await call.then(
          () => 'resolved',
          (e: unknown) => e,
        );
        expect(outcome).not.toBe('resolved');
      };
      await rejected(h.provider.grant(spec, alone(), AbortSignal.abort()));
      expect(await h.holds(spec, new Date())).toBe(false);
      await h.provider.grant(spec, alone());
      await rejected(h.provider.revoke(spec, { overlapping: [], early: true }, AbortSignal.abort()));
      expect(await h.holds(spec, new Date())).toBe(true);
      await rejected(h.provider.status(spec, AbortSignal.abort()));
      await h.provider.revoke(spec, { overlapping: [], early: true });
      expect(await h.holds(spec, new Date())).toBe(false);
    });

    it('should let a restarted broker find and finish a grant whose database write was lost', async () => {
      const spec = h.spec();
      await h.provider.grant(spec, alone());
      const restarted = h.restartedProvider();
      expect(restarted.artifactName(spec.grantId, spec.target)).toBe(spec.artifactName);
      expect((await restarted.status(spec)).status).toMatch(/active|pending/);
      await restarted.grant(spec, alone());
      await restarted.revoke(spec, { overlapping: [], early: true });
      expect(await h.holds(spec, new Date())).toBe(false);
    });

    it('should list what it owns so reconciliation can remove an orphan', async () => {
      const spec = h.spec({ grantId: randomUUID() });
      await h.provider.grant(spec, alone());
      let found: OwnedArtifact | undefined;
      for await (const a of h.provider.listOwned(undefined, scopeOf(spec))) if (a.grantId === spec.grantId) found = a;
      expect(found).toBeDefined();
      await h.provider.removeOrphan(found!);
      expect(await h.holds(spec, new Date())).toBe(false);
      await h.provider.removeOrphan(found!);
    });

    it('should let a restarted broker find, in parts, what an earlier one wrote for the grants its scope names', async () => {
      const spec = h.spec({ grantId: randomUUID() });
      await h.provider.grant(spec, alone());
      const restarted = h.restartedProvider();
      const found: OwnedArtifact[] = [];
      for (const part of await restarted.listingParts(scopeOf(spec))) {
        for await (const a of part.list()) if (a.grantId === spec.grantId) found.push(a);
      }
      expect(found).toHaveLength(1);
      await restarted.removeOrphan(found[0]);
      expect(await h.holds(spec, new Date())).toBe(false);
    });
  });
}
