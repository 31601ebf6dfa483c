import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * A throwaway tree laid out like this repository (its tsconfig paths, its node_modules), in
 * which each file plants one violation, or none. `npm run lint`'s two tools run on it with
 * the repository's own configs, so the configs, not copies, are what fails.
 */
const PLANTS: Record<string, string> = {
  'libs/domain/src/index.ts': `export const DOMAIN = 1;\n`,
  // The domain imports persistence.
  'libs/domain/src/planted-persistence.ts': `import { PERSISTENCE } from '@jit/persistence';\nexport const a = PERSISTENCE;\n`,
  'libs/persistence/src/index.ts': `export const PERSISTENCE = 1;\n`,
  // Persistence imports audit and notifications (allowed until issue 11 point 2 split the store).
  'libs/persistence/src/repositories/postgres-grant.repository.ts':
    `import { AUDIT } from '@jit/audit';\nimport { NOTIFICATIONS } from '@jit/notifications';\nexport const s = [AUDIT, NOTIFICATIONS];\n`,
  // An HTTP file reaches express (declared) and tslib (in node_modules, but not declared).
  'apps/broker/src/http/grants.controller.ts': `import type { Request } from 'express';\nimport { __assign } from 'tslib';\nexport type R = Request;\nexport const T = __assign;\n`,
  'libs/audit/src/index.ts': `export const AUDIT = 1;\n`,
  'libs/audit/src/audit-trail.ts': `export const TRAIL = 1;\n`,
  'libs/notifications/src/index.ts': `export const NOTIFICATIONS = 1;\n`,
  // A provider imports another provider.
  'libs/providers/aws/src/index.ts': `import { GCP } from '@jit/provider-gcp';\nexport const AWS = GCP;\n`,
  'libs/providers/gcp/src/index.ts': `export const GCP = 1;\n`,
  'libs/simulators/aws/src/index.ts': `export const SIM = 1;\n`,
  // The production app imports a simulator.
  'apps/broker/src/planted-simulator.ts': `import { SIM } from '@jit/sim-aws';\nexport const b = SIM;\n`,
  // A cycle inside a lib.
  'libs/grants/src/cycle-a.ts': `import { B } from './cycle-b';\nexport const A = () => B;\n`,
  'libs/grants/src/cycle-b.ts': `import { A } from './cycle-a';\nexport const B = () => A;\n`,
  // Into another lib by a relative path, and past its barrel.
  'libs/grants/src/planted-relative.ts': `import { TRAIL } from '../../audit/src/audit-trail';\nexport const c = TRAIL;\n`,
  'libs/grants/src/planted-deep.ts': `import { DOMAIN } from '@jit/domain/src/index';\nexport const d = DOMAIN;\n`,
  // Async and switch hygiene.
  'libs/grants/src/planted-async.ts': [
    `type Cloud = 'aws' | 'gcp';`,
    `async function work(): Promise<number> { return 1; }`,
    `export function fireAndForget(): void { work(); }`,
    `export function eventHandler(on: (cb: () => void) => void): void { on(async () => { await work(); }); }`,
    `export function label(c: Cloud): number { switch (c) { case 'aws': return 1; } return 0; }`,
    `export function loose(n: number): boolean { return n == 1; }`,
    ``,
  ].join('\n'),
  'test/e2e/planted.e2e-spec.ts': `it('should be awaited', () => { expect(Promise.resolve(1)).resolves.toBe(1); });\n`,
  // The control: a use case importing the domain, the audit trail and the rules through their barrels.
  'libs/grants/src/clean.ts': `import { DOMAIN } from '@jit/domain';\nimport { AUDIT } from '@jit/audit';\nexport const ok = async (): Promise<number> => DOMAIN + AUDIT;\n`,
};

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: 'commonjs',
    moduleResolution: 'node10',
    target: 'ES2022',
    types: ['node', 'jest'],
    ignoreDeprecations: '6.0',
    paths: Object.fromEntries(
      ['domain', 'persistence', 'audit', 'notifications', 'grants'].map((l) => [`@jit/${l}`, [`./libs/${l}/src`]]).concat([
        ['@jit/provider-aws', ['./libs/providers/aws/src']],
        ['@jit/provider-gcp', ['./libs/providers/gcp/src']],
        ['@jit/sim-aws', ['./libs/simulators/aws/src']],
      ]),
    ),
  },
  include: ['apps/**/*.ts', 'libs/**/*.ts', 'test/**/*.ts'],
};

function run(bin: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(join(ROOT, 'node_modules', '.bin', bin), args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('npm run lint catches planted violations', () => {
  let dir: string;

  beforeAll(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'jit-lint-plants-')));
    for (const [path, text] of Object.entries(PLANTS)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    // The repository's own declarations, so a package counts as declared exactly as it does there.
    const { dependencies, devDependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'plants', private: true, dependencies, devDependencies }));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should have dependency-cruiser report each planted layering violation, and nothing from the clean file', async () => {
    const res = await run('depcruise', ['--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json', 'apps', 'libs', 'test'], dir);
    const violations = (JSON.parse(res.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } }).summary.violations;
    // Packages resolve through the node_modules link to the repository's own; name them from node_modules on.
    const named = violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to.replace(/^.*node_modules\//, 'node_modules/')}`);
    expect(named.sort()).toEqual([
      'declared-dependencies-only: apps/broker/src/http/grants.controller.ts -> node_modules/tslib/modules/index.js',
      'domain-imports-nothing: libs/domain/src/planted-persistence.ts -> libs/persistence/src/index.ts',
      'lib-through-its-barrel: libs/grants/src/planted-relative.ts -> libs/audit/src/audit-trail.ts',
      'no-circular: libs/grants/src/cycle-a.ts -> libs/grants/src/cycle-b.ts',
      'not-to-unresolvable: libs/grants/src/planted-deep.ts -> @jit/domain/src/index',
      'persistence-imports-inward: libs/persistence/src/repositories/postgres-grant.repository.ts -> libs/audit/src/index.ts',
      'persistence-imports-inward: libs/persistence/src/repositories/postgres-grant.repository.ts -> libs/notifications/src/index.ts',
      'provider-aws-imports-inward: libs/providers/aws/src/index.ts -> libs/providers/gcp/src/index.ts',
      'simulators-only-in-tests-and-sandbox: apps/broker/src/planted-simulator.ts -> libs/simulators/aws/src/index.ts',
    ]);
    // As `npm run lint:deps` prints it: non-zero exit, each rule's comment says why.
    const err = await run('depcruise', ['--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err-long', 'apps', 'libs', 'test'], dir);
    expect(err.code).not.toBe(0);
    expect(err.stdout).toContain('The domain imports nothing in the repo.');
    expect(err.stdout).toContain('Production code imports only packages declared in package.json');
  });

  it('should have ESLint report each planted async, switch, equality and import mistake, and nothing from the clean file', async () => {
    const res = await run('eslint', ['--config', join(ROOT, 'eslint.config.mjs'), '--format', 'json', 'apps', 'libs', 'test'], dir);
    expect(res.code).toBe(1);
    const files = JSON.parse(res.stdout) as { filePath: string; messages: { line: number; ruleId: string | null }[] }[];
    const found = files.flatMap((f) => f.messages.map((m) => `${f.filePath.slice(dir.length + 1)}:${m.line} ${m.ruleId}`)).sort();
    expect(found).toEqual([
      'libs/grants/src/planted-async.ts:3 @typescript-eslint/no-floating-promises',
      'libs/grants/src/planted-async.ts:4 @typescript-eslint/no-misused-promises',
      'libs/grants/src/planted-async.ts:5 @typescript-eslint/switch-exhaustiveness-check',
      'libs/grants/src/planted-async.ts:6 eqeqeq',
      'libs/grants/src/planted-deep.ts:1 no-restricted-imports',
      'libs/grants/src/planted-relative.ts:1 no-restricted-imports',
      'test/e2e/planted.e2e-spec.ts:1 @typescript-eslint/no-floating-promises',
    ]);
  });
});
