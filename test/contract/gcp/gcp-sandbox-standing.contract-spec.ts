import { StandingAssignment } from '@jit/domain';
import { seedSandboxGcpStanding } from '../../../apps/sandbox/src/sandbox-gcp-standing';
import { GcpContractEnv, startGcpContractEnv } from './gcp-contract.env';

/** The sandbox's seeded standing GCP access, as a scan reads it through the adapter. */
describe('sandbox GCP: standing access for discovery', () => {
  let env: GcpContractEnv;
  beforeAll(async () => {
    env = await startGcpContractEnv();
    env.simulator.createProject('sandbox-project');
    env.simulator.createFolder('100');
    env.simulator.createOrganization('1');
    seedSandboxGcpStanding(env.simulator, { project: 'sandbox-project', folder: '100', organization: '1' });
  });
  afterAll(() => env.close());

  it('should find every seeded standing binding, flag the unused ones and leave out the temporary one', async () => {
    const provider = env.provider();
    await provider.grant(env.spec('projects/sandbox-project', { member: 'user:alice@sandbox.example' }), { overlapping: [] });
    const inventory = provider.standingInventory();
    const found: StandingAssignment[] = [];
    for (const part of await inventory.parts()) {
      let cursor: string | null = null;
      do {
        const page = await inventory.page(part, cursor);
        found.push(...page.assignments);
        cursor = page.cursor;
      } while (cursor !== null);
    }
    const row = (a: StandingAssignment) => [a.scope, a.access.name, a.principal.id, a.brokerOwned, a.neverUsed].join(' ');
    expect(found.map(row).sort((a, b) => a.localeCompare(b))).toEqual(
      [
        ['organizations/1', 'roles/resourcemanager.organizationAdmin', 'user:it-admin@sandbox.example', false, false],
        ['folders/100', 'roles/owner', 'group:platform@sandbox.example', false, false],
        ['projects/sandbox-project', 'roles/owner', 'user:ops-lead@sandbox.example', false, false],
        ['projects/sandbox-project', 'roles/editor', 'serviceAccount:deployer@sandbox-project.iam.gserviceaccount.com', false, false],
        ['projects/sandbox-project', 'roles/iam.securityAdmin', 'user:contractor@sandbox.example', false, false],
        ['projects/sandbox-project', 'roles/viewer', 'user:analyst@sandbox.example', false, false],
        ['projects/sandbox-project', 'roles/storage.objectViewer', 'user:alice@sandbox.example', true, false],
      ]
        .map((r) => r.join(' '))
        .sort((a, b) => a.localeCompare(b)),
    );
  });
});
