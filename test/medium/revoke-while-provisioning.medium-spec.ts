import { randomUUID } from 'node:crypto';
import { Grant, GrantSpec, ProvisionOutcome, SystemClock, Target, grantSpec } from '@jit/domain';
import { CloudProviderRegistry } from '@jit/grants';
import { LocalCloudProvider } from '@jit/provider-local';
import { grantRow } from '@jit/testing';
import { openTestDatabase } from '../setup/test-database';
import { auditChained, postgresStores } from '../setup/postgres-stores';
import { wireGrantUseCases } from '../setup/wire-grant-use-cases';

const SETTINGS = { leaseMs: 30_000, providerTimeoutMs: 10_000, revokeMaxAttempts: 3, revokeFailedRetryMs: 60_000 };
const alice = { subject: 'alice', roles: ['requester' as const] };

/** An in-memory AWS whose grant calls wait at a gate the test opens: a cloud call in flight, for as long as the test needs. */
class GatedCloud extends LocalCloudProvider {
  private open: () => void = () => undefined;
  private gate: Promise<void> | null = null;
  /** Resolves once a grant call is waiting at the gate. */
  waiting!: Promise<void>;

  hold(): void {
    let arrived: () => void = () => undefined;
    this.waiting = new Promise((r) => (arrived = r));
    this.gate = new Promise((r) => (this.open = r));
    const gate = this.gate;
    this.beforeGrant = async () => {
      arrived();
      await gate;
    };
  }

  release(): void {
    this.beforeGrant = async () => undefined;
    this.open();
  }

  private beforeGrant: () => Promise<void> = async () => undefined;

  override async grant(spec: GrantSpec, context: { overlapping: GrantSpec[] }, signal?: AbortSignal): Promise<ProvisionOutcome> {
    await this.beforeGrant();
    return super.grant(spec, context, signal);
  }
}

/**
 * Issue 12 point 2 on a real database: a revoke of a grant in `provisioning` is never refused. It
 * is recorded on the row (even under the provisioning replica's lease) and carried out as soon as
 * provisioning settles, or by the sweeper after a crash; a failed provisioning notes it.
 */
describe('revoke while provisioning', () => {
  type Db = Awaited<ReturnType<typeof openTestDatabase>>;
  let db: Db;

  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  function provisioning(provider: LocalCloudProvider): Grant {
    const target: Target = { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] };
    const principal = { type: 'workload' as const, id: `arn:aws:iam::123456789012:role/r-${randomUUID().slice(0, 8)}` };
    return grantRow(provider, { state: 'provisioning', expiresAt: new Date(Date.now() + 3_600_000), durationSeconds: 3600, target, principal });
  }

  async function auditOf(id: string): Promise<{ type: string; actor: string; data: Record<string, unknown> }[]> {
    await auditChained(db.dataSource);
    return db.dataSource.query(`SELECT type, actor, data FROM audit_events WHERE grant_id = $1 ORDER BY seq`, [id]);
  }

  async function leaseOf(id: string): Promise<{ lease_owner: string | null; lease_until: Date | null }> {
    const [row] = await db.dataSource.query(`SELECT lease_owner, lease_until FROM grants WHERE id = $1`, [id]);
    return row;
  }

  it('should record a revoke made while the cloud call is in flight, leave the lease alone, and revoke once the grant is active', async () => {
    const aws = new GatedCloud('aws');
    const registry = new CloudProviderRegistry([aws]);
    const provisioner = wireGrantUseCases(postgresStores(db.dataSource, new SystemClock(), 'replica-a'), registry, new SystemClock(), SETTINGS);
    const api = wireGrantUseCases(postgresStores(db.dataSource, new SystemClock(), 'replica-b'), registry, new SystemClock(), SETTINGS);
    const g = provisioning(aws);
    const leaseUntil = new Date(Date.now() + SETTINGS.leaseMs);
    await postgresStores(db.dataSource, new SystemClock(), 'replica-a').insert(g, null, [], leaseUntil);

    aws.hold();
    const provisioned = provisioner.lifecycle.provision(g, { recovered: false, attempts: 1 });
    await aws.waiting;
    // Replica B answers the revoke while replica A's grant call is in flight and A holds the row.
    const answered = await api.revoke.execute(alice, g.id, { reason: 'wrong role', force: false });
    expect(answered.state).toBe('provisioning');
    expect(answered.revokeRequest).toMatchObject({ by: 'alice', reason: 'wrong role' });
    expect(await leaseOf(g.id)).toEqual({ lease_owner: 'replica-a', lease_until: leaseUntil });
    // Asking again changes nothing and records nothing more.
    const again = await api.revoke.execute(alice, g.id, { reason: 'still wrong', force: false });
    expect(again.revokeRequest).toEqual(answered.revokeRequest);

    aws.release();
    const result = await provisioned;

    expect(result.grant).toMatchObject({ state: 'revoked', endReason: 'revoked' });
    expect('outcome' in result && result.outcome.credentials).toBeFalsy();
    expect(aws.holds(g, new Date())).toBe(false);
    expect(aws.calls.filter((c) => c.grantId === g.id).map((c) => [c.op, c.early ?? null])).toEqual([
      ['grant', null],
      ['revoke', true],
    ]);
    const events = await auditOf(g.id);
    expect(events.map((e) => e.type)).toEqual([
      'grant.revoke_requested',
      'grant.provisioned',
      'grant.activated',
      'grant.revoke_requested',
      'grant.revoked',
    ]);
    expect(events[0]).toMatchObject({ actor: 'alice', data: { reason: 'wrong role', deferred: true, state: 'provisioning' } });
    expect(events[3]).toMatchObject({
      actor: 'broker',
      data: { reason: 'wrong role', requestedBy: 'alice', requestedAt: answered.revokeRequest!.at.toISOString() },
    });
  });

  it('should carry out the recorded revoke when the sweeper recovers a grant a crashed replica left provisioning, without granting first', async () => {
    const aws = new LocalCloudProvider('aws');
    const registry = new CloudProviderRegistry([aws]);
    const g = provisioning(aws);
    // The replica that was provisioning died holding a lease that has lapsed.
    await postgresStores(db.dataSource, new SystemClock(), 'dead').insert(g, null, [], new Date(Date.now() - 1_000));
    const survivor = postgresStores(db.dataSource, new SystemClock(), 'survivor');
    const use = wireGrantUseCases(survivor, registry, new SystemClock(), SETTINGS);
    const recorded = await use.revoke.execute(alice, g.id, { reason: null, force: false });
    expect(recorded.state).toBe('provisioning');

    const claimed = (await survivor.queue.claimDue('survivor', SETTINGS.leaseMs, 50)).filter((x) => x.id === g.id);
    expect(claimed).toHaveLength(1);
    const ended = await use.processDue.execute(claimed[0]);

    expect(ended).toMatchObject({ state: 'revoked', endReason: 'revoked' });
    expect(aws.calls.filter((c) => c.grantId === g.id).map((c) => c.op)).toEqual(['revoke']);
    expect((await auditOf(g.id)).map((e) => e.type)).toEqual(['grant.revoke_requested', 'grant.revoke_requested', 'grant.revoked']);
  });

  it('should claim and revoke an active grant whose recorded revoke a replica that died after activating never started', async () => {
    const aws = new LocalCloudProvider('aws');
    const registry = new CloudProviderRegistry([aws]);
    const g = provisioning(aws);
    const stores = postgresStores(db.dataSource, new SystemClock(), 'dead');
    await stores.insert(g, null, [], null);
    const use = wireGrantUseCases(stores, registry, new SystemClock(), SETTINGS);
    await use.revoke.execute(alice, g.id, { reason: 'done', force: false });
    // What the dead replica got done: the cloud holds the access and the row says active (expiring in an hour).
    await aws.grant(grantSpec(g), { overlapping: [] });
    const active = await stores.transition(g.id, 'provisioning', 'active', { startsAt: new Date(), providerRef: { local: 'aws' } }, () => []);
    expect(active).toMatchObject({ state: 'active', revokeRequest: { by: 'alice', reason: 'done' } });

    const sweeper = postgresStores(db.dataSource, new SystemClock(), 'sweeper');
    const claimed = (await sweeper.queue.claimDue('sweeper', SETTINGS.leaseMs, 50)).filter((x) => x.id === g.id);
    expect(claimed).toHaveLength(1);
    const ended = await wireGrantUseCases(sweeper, registry, new SystemClock(), SETTINGS).processDue.execute(claimed[0]);

    expect(ended).toMatchObject({ state: 'revoked', endReason: 'revoked' });
    expect(aws.holds(g, new Date())).toBe(false);
    expect(aws.size).toBe(0);
  });

  it('should end failed, noting the recorded revoke, when provisioning fails', async () => {
    const aws = new GatedCloud('aws');
    const registry = new CloudProviderRegistry([aws]);
    const stores = postgresStores(db.dataSource, new SystemClock(), 'replica-a');
    const use = wireGrantUseCases(stores, registry, new SystemClock(), SETTINGS);
    const g = provisioning(aws);
    await stores.insert(g, null, [], new Date(Date.now() + SETTINGS.leaseMs));
    aws.hold();
    const provisioned = use.lifecycle.provision(g, { recovered: false, attempts: 1 });
    await aws.waiting;
    await use.revoke.execute(alice, g.id, { reason: 'never mind', force: false });
    aws.inject({ terminal: 1 });
    aws.release();

    const result = await provisioned;

    expect(result.grant).toMatchObject({ state: 'failed', endReason: 'failed', revokeRequest: { by: 'alice' } });
    const events = await auditOf(g.id);
    expect(events.map((e) => e.type)).toEqual(['grant.revoke_requested', 'grant.failed']);
    expect(events[1].data).toMatchObject({ revokeRequestedBy: 'alice', revokeRequestedAt: expect.any(String) });
    expect(aws.size).toBe(0);
  });

  it('should withdraw a pending request, with no cloud call', async () => {
    const aws = new LocalCloudProvider('aws');
    const registry = new CloudProviderRegistry([aws]);
    const stores = postgresStores(db.dataSource, new SystemClock(), 'api');
    const use = wireGrantUseCases(stores, registry, new SystemClock(), SETTINGS);
    const pending: Grant = { ...provisioning(aws), state: 'pending_approval', approvalDeadline: new Date(Date.now() + 600_000) };
    await stores.insert(pending, null, [], null);
    const withdrawn = await use.revoke.execute(alice, pending.id, { reason: 'not needed', force: false });
    expect(withdrawn).toMatchObject({ state: 'denied', endReason: 'withdrawn' });
    expect(aws.calls.filter((c) => c.grantId === pending.id)).toEqual([]);
  });
});
