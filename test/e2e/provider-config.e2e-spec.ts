import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GcpSimulator } from '@jit/sim-gcp';
import { BrokerProcess, spawnBroker } from '../setup/broker-process';
import { pollUntil } from '../setup/poll-until.util';

const ROOT = join(__dirname, '..', '..');
const MAIN = 'apps/broker/src/main.ts';
/** A cold compile and the embedded database's migrations take over a minute on a loaded shared machine. */
const BOOT_TIMEOUT_MS = 180_000;

/** `npm start` as an operator runs it: the broker's and the clouds' variables read by the one loader. */
function npmStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--experimental-vm-modules', '-r', '@swc-node/register', MAIN],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } },
      (error, _stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    );
  });
}

describe('provider configuration at npm start (issue 11 point 3)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'jit-provider-config-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('should refuse to start, naming every bad variable of the broker and of each cloud at once', async () => {
    const { code, stderr } = await npmStart({
      JIT_PROVIDERS: 'aws,azure,gcp',
      JIT_DATA_DIR: dataDir,
      JIT_SWEEP_CONCURRENCY: 'lots',
      AWS_JIT_MEMBER_ACCOUNTS: '123',
      JIT_AZURE_MAX_ATTEMPTS: 'abc',
      GCP_JIT_RETRY_ATTEMPTS: '3',
      JIT_GCP_MAX_ATTEMPTS: '5',
    });
    expect(code).toBe(1);
    expect(stderr).toBe(
      [
        'jit-broker: invalid configuration:',
        '  JIT_SWEEP_CONCURRENCY: JIT_SWEEP_CONCURRENCY must be an integer from 1 to 1024, got "lots"',
        '  AWS_JIT_MEMBER_ACCOUNTS (deprecated name of JIT_AWS_MEMBER_ACCOUNTS): JIT_AWS_MEMBER_ACCOUNTS holds what is not a 12-digit account id: 123',
        '  AZURE_TENANT_ID: AZURE_TENANT_ID is required for the Azure provider',
        '  JIT_AZURE_MAX_ATTEMPTS: JIT_AZURE_MAX_ATTEMPTS must be an integer from 1 to 20, got "abc"',
        '  GCP_JIT_RETRY_ATTEMPTS: deprecated name of JIT_GCP_MAX_ATTEMPTS, and both are set to different values: keep JIT_GCP_MAX_ATTEMPTS only',
        '',
      ].join('\n'),
    );
  }, BOOT_TIMEOUT_MS);

  describe('with the deprecated GCP names', () => {
    let sim: GcpSimulator;
    let broker: BrokerProcess | undefined;
    afterEach(async () => {
      await broker?.stop();
      broker = undefined;
      await sim.close();
    });

    it('should warn once per old name, naming the new one, and use what they say', async () => {
      sim = await GcpSimulator.start({ port: 0, token: 'provider-config-token' });
      const project = sim.createProject('provider-config');
      broker = await spawnBroker(MAIN, {
        DATABASE_URL: '',
        NO_COLOR: '1',
        JIT_DATA_DIR: dataDir,
        JIT_AUDIT_UNSIGNED: 'true',
        JIT_PROVIDERS: 'gcp',
        // The shortest interval reconciliation takes: it lists the project through the endpoint with the token.
        JIT_RECONCILE_INTERVAL: 'PT10S',
        GCP_RESOURCE_MANAGER_ENDPOINT: sim.endpoint,
        GCP_STATIC_ACCESS_TOKEN: 'provider-config-token',
        GCP_JIT_RECONCILE_RESOURCES: project,
      }, BOOT_TIMEOUT_MS);
      const call = await pollUntil(async () => sim.traffic().find((t) => t.resource === project), 60_000, 200);
      expect(call.authorization).toBe('Bearer provider-config-token');
      expect(call.status).toBe(200);
      // The broker's log lines are JSON (docs/observability.md): the warnings are the Broker's messages.
      const lines = broker.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { context?: string; msg: string });
      const warnings = lines.filter((line) => line.msg.includes('is deprecated: use'));
      expect(warnings.every((line) => line.context === 'Broker')).toBe(true);
      expect(warnings.map((line) => line.msg)).toEqual([
        'GCP_RESOURCE_MANAGER_ENDPOINT is deprecated: use JIT_GCP_RESOURCE_MANAGER_ENDPOINT',
        'GCP_STATIC_ACCESS_TOKEN is deprecated: use JIT_GCP_STATIC_ACCESS_TOKEN',
        'GCP_JIT_RECONCILE_RESOURCES is deprecated: use JIT_GCP_RECONCILE_RESOURCES',
      ]);
    }, BOOT_TIMEOUT_MS + 90_000);
  });
});
