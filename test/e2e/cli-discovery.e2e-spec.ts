import { seedLocalStanding } from '../../apps/sandbox/src/sandbox-local-standing';
import { parseCsv } from '../setup/csv.util';
import { runJitCli } from '../setup/jit-cli.process';
import { TOKENS, TestBroker, startTestBroker } from '../setup/test-broker';

/** `jit discovery` against a running broker whose in-memory clouds hold the sandbox's standing access. */
describe('jit discovery', () => {
  let t: TestBroker;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestBroker();
    for (const c of Object.values(t.clouds)) seedLocalStanding(c);
    env = { JIT_URL: t.broker.url!, JIT_TOKEN: TOKENS.admin, NO_COLOR: '1' };
  });
  afterAll(() => t.close());

  const jit = async (...args: string[]) => {
    const run = await runJitCli(args, env).exited;
    if (run.code !== 0) throw new Error(`jit ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    return run.stdout;
  };

  it('should scan, summarise, list, export, show a finding with its rule, and ask a removal its requester cannot approve', async () => {
    const scan = JSON.parse(await jit('discovery', 'scan', '--wait', '--json')) as { state: string; clouds: { cloud: string }[] };
    expect(scan.state).toBe('completed');
    expect(scan.clouds.map((c) => c.cloud).sort()).toEqual(['aws', 'azure', 'gcp']);
    const summary = JSON.parse(await jit('discovery', 'summary', '--json')) as { clouds: { cloud: string; privileged: number }[] };
    expect(summary.clouds.map((c) => [c.cloud, c.privileged])).toEqual([
      ['aws', 2],
      ['azure', 2],
      ['gcp', 1],
    ]);
    const table = await jit('discovery', 'findings', '--privileged', '--unused-for', '90');
    expect(table).toMatch(/legacy-ci/);
    expect(table).toMatch(/Alice/);
    expect(table).not.toMatch(/platform-admin/);
    const csv = parseCsv(await jit('discovery', 'findings', '--privileged', '--format', 'csv'));
    expect(csv).toHaveLength(5);
    const owner = csv.find((r) => r.accessName === 'Owner')!;
    const shown = await jit('discovery', 'show', owner.id);
    expect(shown).toMatch(/accepted by the rules checker/);
    expect(shown).toMatch(/kind: azure\.resource-role/);
    const removal = JSON.parse(await jit('discovery', 'remove', owner.id, '--justification', 'never used', '--json')) as { id: string; state: string };
    expect(removal.state).toBe('pending_approval');
    // The requester may not approve their own removal: the CLI reports the broker's refusal.
    const self = await runJitCli(['discovery', 'approve', removal.id], env).exited;
    expect(self.code).not.toBe(0);
    expect(self.stderr).toMatch(/own/);
  });
});
