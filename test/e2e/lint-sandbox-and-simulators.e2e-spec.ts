import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Issue 11 point 5's layering, planted in a throwaway tree laid out like this repository and
 * checked with the repository's own .dependency-cruiser.cjs: the production broker reaches no
 * simulator, in-memory cloud, libs/testing or sandbox; the sandbox app, which may use all
 * of them, embeds the broker only through @jit/broker; a simulator shares code only with the
 * simulator kit, which imports nothing.
 */
const PLANTS: Record<string, string> = {
  'libs/domain/src/index.ts': `export const DOMAIN = 1;\n`,
  // The control: a simulator on the kit.
  'libs/simulators/aws/src/index.ts': `import { KIT } from '@jit/sim-kit';\nexport const SIM = KIT;\n`,
  'libs/simulators/kit/src/index.ts': `export const KIT = 1;\n`,
  // The kit reaches into the domain; one simulator borrows another's code.
  'libs/simulators/kit/src/planted-domain.ts': `import { DOMAIN } from '@jit/domain';\nexport const k = DOMAIN;\n`,
  'libs/simulators/gcp/src/index.ts': `import { SIM } from '@jit/sim-aws';\nexport const GCP_SIM = SIM;\n`,
  'libs/providers/local/src/index.ts': `export const LOCAL = 1;\n`,
  'libs/testing/src/index.ts': `export const TESTING = 1;\n`,
  'apps/broker/src/start-broker.ts': `import { DOMAIN } from '@jit/domain';\nexport const startBroker = () => DOMAIN;\n`,
  'apps/broker/src/index.ts': `export { startBroker } from './start-broker';\n`,
  // `npm start` reaches the in-memory cloud through another module of the app.
  'apps/broker/src/main.ts': `import { clouds } from './wiring';\nexport const m = clouds;\n`,
  'apps/broker/src/wiring.ts': `import { LOCAL } from '@jit/provider-local';\nexport const clouds = [LOCAL];\n`,
  // A CLI of the broker seeds with the test helpers.
  'apps/broker/src/cli/tool.ts': `import { TESTING } from '@jit/testing';\nexport const t = TESTING;\n`,
  // A broker file reaches back into the sandbox app.
  'apps/broker/src/leftover.ts': `import { sandbox } from '../../sandbox/src/main';\nexport const l = sandbox;\n`,
  // The sandbox past the broker's barrel.
  'apps/sandbox/src/deep.ts': `import { startBroker } from '../../broker/src/start-broker';\nexport const d = startBroker;\n`,
  // The control: the sandbox starts simulators and the in-memory cloud and hands them to @jit/broker.
  'apps/sandbox/src/main.ts':
    `import { startBroker } from '@jit/broker';\nimport { SIM } from '@jit/sim-aws';\nimport { LOCAL } from '@jit/provider-local';\n` +
    `export const sandbox = () => [startBroker(), SIM, LOCAL];\n`,
};

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: 'commonjs',
    moduleResolution: 'node10',
    target: 'ES2022',
    types: ['node', 'jest'],
    ignoreDeprecations: '6.0',
    paths: {
      '@jit/domain': ['./libs/domain/src'],
      '@jit/testing': ['./libs/testing/src'],
      '@jit/provider-local': ['./libs/providers/local/src'],
      '@jit/sim-aws': ['./libs/simulators/aws/src'],
      '@jit/sim-kit': ['./libs/simulators/kit/src'],
      '@jit/broker': ['./apps/broker/src'],
    },
  },
  include: ['apps/**/*.ts', 'libs/**/*.ts'],
};

function depcruise(cwd: string): Promise<{ stdout: string }> {
  const args = ['--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json', 'apps', 'libs'];
  return new Promise((resolve) => {
    execFile(join(ROOT, 'node_modules', '.bin', 'depcruise'), args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (_error, stdout) =>
      resolve({ stdout }),
    );
  });
}

describe('npm run lint keeps the sandbox and the simulators out of the broker', () => {
  let dir: string;

  beforeAll(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'jit-lint-sandbox-')));
    for (const [path, text] of Object.entries(PLANTS)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'plants', private: true }));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should report each planted import, and nothing from the sandbox app that uses the broker barrel or a simulator on the kit', async () => {
    const res = await depcruise(dir);
    const violations = (JSON.parse(res.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } }).summary.violations;
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort()).toEqual([
      'broker-not-to-sandbox: apps/broker/src/leftover.ts -> apps/sandbox/src/main.ts',
      'broker-reaches-no-test-code: apps/broker/src/cli/tool.ts -> libs/testing/src/index.ts',
      'broker-reaches-no-test-code: apps/broker/src/main.ts -> libs/providers/local/src/index.ts',
      'in-memory-cloud-only-in-tests-and-sandbox: apps/broker/src/wiring.ts -> libs/providers/local/src/index.ts',
      'sandbox-through-the-broker-barrel: apps/sandbox/src/deep.ts -> apps/broker/src/start-broker.ts',
      'simulator-gcp-imports-the-kit-only: libs/simulators/gcp/src/index.ts -> libs/simulators/aws/src/index.ts',
      'simulator-kit-imports-nothing: libs/simulators/kit/src/planted-domain.ts -> libs/domain/src/index.ts',
      'testing-only-in-tests: apps/broker/src/cli/tool.ts -> libs/testing/src/index.ts',
    ]);
  });
});
