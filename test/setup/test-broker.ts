import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { loadBrokerConfig } from '@jit/config';
import { Clock, CLOUDS, CloudAccessProvider, CloudName, TargetKinds } from '@jit/domain';
import { LocalCloudProvider } from '@jit/provider-local';
import { targetKinds } from '@jit/testing';
import { ensureAuditSigningKey } from '../../apps/broker/src/audit/audit-signing-key.file';
import { sha256Hex } from '../../apps/broker/src/http/auth/token-registry';
import { RunningBroker, StartOptions, startBroker } from '../../apps/broker/src/start-broker';
import { Database } from '@jit/persistence';
import { openTestDatabase } from './test-database';

/**
 * Tokens for each role; bob is a second requester; both approvers are in group `sre`, alice in
 * `developers`; frank both requests and approves; `emergency` is a break-glass account where rules name it.
 */
export const TOKENS = {
  alice: 'tok-alice-requester-000000000000',
  bob: 'tok-bob-requester-00000000000000',
  auditor: 'tok-auditor-000000000000000000000',
  approver: 'tok-approver-00000000000000000000',
  approver2: 'tok-approver2-0000000000000000000',
  frank: 'tok-frank-requester-and-approver00',
  emergency: 'tok-emergency-break-glass-0000000',
  admin: 'tok-admin-00000000000000000000000',
} as const;

export interface TestBroker {
  broker: RunningBroker;
  /** The broker's temporary folder: tokens, audit signing key (audit-signing-key.pem, .pub.pem) and checkpoint file (audit-checkpoints.jsonl). */
  dir: string;
  clouds: Record<CloudName, LocalCloudProvider>;
  http: ReturnType<typeof request>;
  as(who: keyof typeof TOKENS): { Authorization: string };
  close(): Promise<void>;
}

/** Rules that allow every request at once, for tests that are not about rules. */
export const ALLOW_ALL_POLICY = join(__dirname, '..', 'fixtures', 'allow-all.policy.yaml');

/**
 * The broker as the sandbox runs it (local clouds), on a fresh test database, listening on an
 * ephemeral port. `providers` (real adapters against a simulator) replace the local cloud of
 * their cloud; `clouds` still holds the local ones.
 */
export async function startTestBroker(
  env: Record<string, string> = {},
  /**
   * `database`: one the test opened itself (and closes): the broker neither opens nor closes one.
   * `kinds`: the target kinds served (the local clouds' too), by default the three provider libs' (`targetKinds`).
   * `clock`: the broker's clock (e.g. a ManualClock), by default the system's.
   */
  options: { providers?: CloudAccessProvider[]; database?: Database; kinds?: TargetKinds; clock?: Clock; reviewPorts?: StartOptions['reviewPorts'] } = {},
): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'jit-test-'));
  const tokensFile = join(dir, 'tokens.json');
  writeFileSync(
    tokensFile,
    JSON.stringify({
      tokens: [
        { subject: 'alice', roles: ['requester'], groups: ['developers'], sha256: sha256Hex(TOKENS.alice) },
        { subject: 'bob', roles: ['requester'], sha256: sha256Hex(TOKENS.bob) },
        { subject: 'carol-auditor', roles: ['auditor'], sha256: sha256Hex(TOKENS.auditor) },
        { subject: 'dave-approver', roles: ['approver'], groups: ['sre'], sha256: sha256Hex(TOKENS.approver) },
        { subject: 'erin-approver', roles: ['approver'], groups: ['sre'], sha256: sha256Hex(TOKENS.approver2) },
        { subject: 'frank', roles: ['requester', 'approver'], groups: ['sre', 'developers'], sha256: sha256Hex(TOKENS.frank) },
        { subject: 'emergency', roles: ['requester'], sha256: sha256Hex(TOKENS.emergency) },
      ],
    }),
  );
  const database = options.database ? { ...options.database, close: async () => {} } : await openTestDatabase();
  // Every test broker signs checkpoints, as production must, into a file sink of its own.
  const signing = ensureAuditSigningKey(dir);
  const config = loadBrokerConfig({
    JIT_AUDIT_SIGNING_KEY: signing.keyFile,
    JIT_AUDIT_CHECKPOINT_FILE: join(dir, 'audit-checkpoints.jsonl'),
    PORT: '0',
    HOST: '127.0.0.1',
    JIT_TOKENS_FILE: tokensFile,
    JIT_ADMIN_TOKEN: TOKENS.admin,
    JIT_MIN_DURATION: 'PT1S',
    JIT_SWEEP_INTERVAL: 'PT2S',
    JIT_POLICY_FILE: ALLOW_ALL_POLICY,
    // Suites that are not about abuse limits send hundreds of writes as one subject.
    JIT_RATE_LIMIT_WRITES: '9999999/PT1M',
    JIT_RATE_LIMIT_DRY_RUNS: '9999999/PT1M',
    ...env,
  });
  const clouds = Object.fromEntries(CLOUDS.map((c) => [c, new LocalCloudProvider(c, options.kinds ?? targetKinds)])) as Record<CloudName, LocalCloudProvider>;
  const replaced = new Set((options.providers ?? []).map((p) => p.cloud));
  const providers = [...Object.values(clouds).filter((c) => !replaced.has(c.cloud)), ...(options.providers ?? [])];
  let broker: RunningBroker;
  try {
    broker = await startBroker({ config, providers, database, kinds: options.kinds, clock: options.clock, reviewPorts: options.reviewPorts, logLevels: ['error'] });
  } catch (e) {
    await database.close();
    throw e;
  }
  return {
    broker,
    dir,
    clouds,
    http: request(broker.url!),
    as: (who) => ({ Authorization: `Bearer ${TOKENS[who]}` }),
    async close() {
      await broker.close();
      await database.close();
    },
  };
}

export const awsPolicyGrant = (overrides: Record<string, unknown> = {}) => ({
  cloud: 'aws',
  principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci-deployer' },
  target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::artifacts/*'] },
  duration: 'PT20M',
  justification: 'release 1.4.2',
  ticket: 'CHG-1234',
  ...overrides,
});
