/**
 * The production image (issue 13 point 3), checked without a Docker engine (none runs here):
 * the build context that .dockerignore lets through (Docker's own matching rules, from
 * @balena/dockerignore) holds no secret, local state or build output; the Dockerfile (parsed
 * with dockerfile-ast) builds on a pinned Node 24 LTS slim image, installs only production
 * dependencies in the runtime stage, runs as a non-root user with node itself as PID 1 on the
 * entry `npm start` runs; and its HEALTHCHECK command, run here with node, passes on a 200 from
 * /health and fails on a 503 or no answer. scripts/check-runtime-deps.sh shows that the same
 * tree starts and serves.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import dockerignore from '@balena/dockerignore';
import { parse } from 'yaml';
import { DockerfileParser, Instruction } from 'dockerfile-ast';
import { ModifiableInstruction } from 'dockerfile-ast/lib/modifiableInstruction';

const ROOT = join(__dirname, '..', '..');
const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const ignore = dockerignore({ ignorecase: false }).add(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));

/** What `docker build .` would send from a tree holding these files. */
const context = (files: string[]) => ignore.filter(files);

/** The files of this work tree, as relative paths; node_modules and .git are left out (the context test shows they are ignored). */
function workTreeFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== '.git') walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  walk('');
  return files;
}

/** The instructions of each build stage, by stage name. */
function stages(): Map<string, Instruction[]> {
  const byStage = new Map<string, Instruction[]>();
  let current: Instruction[] | undefined;
  for (const i of dockerfile.getInstructions()) {
    if (i.getKeyword() === 'FROM') {
      const name = /\bAS\s+(\S+)/i.exec(i.getArgumentsContent() ?? '')?.[1] ?? `stage${byStage.size}`;
      current = [];
      byStage.set(name, current);
    } else current?.push(i);
  }
  return byStage;
}
const args = (i: Instruction) => i.getArgumentsContent() ?? '';
/** The instruction as written, flags included (`COPY --from=deps /app/node_modules ./node_modules`). */
const written = (i: Instruction) => {
  const flags = i instanceof ModifiableInstruction ? i.getFlags().map((f) => `--${f.getName()}=${f.getValue() ?? ''}`) : [];
  return [i.getKeyword(), ...flags, args(i)].join(' ').replace(/\s+/g, ' ');
};
const of = (is: Instruction[], keyword: string) => is.filter((i) => i.getKeyword() === keyword);
/** An exec-form (JSON) instruction's words. */
const execForm = (text: string): string[] => JSON.parse(text.trim()) as string[];
 

describe('the production image', () => {
  it('sends the build only package.json, the lock, tsconfig, the build scripts, apps/ and libs/: no secret, state or output', () => {
    const planted = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'scripts/build.mjs',
      'scripts/prune-dist.sh',
      'scripts/check-runtime-deps.sh',
      'apps/broker/src/main.ts',
      'apps/broker/src/main.spec.ts',
      'libs/audit/src/index.ts',
      'apps/broker/src/dev-key.pem',
      'libs/config/src/.env.local',
      'libs/config/src/data/jit.db',
      'apps/broker/node_modules/x/index.js',
      'libs/domain/dist/index.js',
      '.env',
      '.env.production',
      'audit-signing.pem',
      'audit-signing.pub.pem',
      'tokens.json',
      'rules.yaml',
      'sandbox.rules.yaml',
      'data/pglite/base/1',
      'data/audit-checkpoints.jsonl',
      'node_modules/pg/index.js',
      'dist/apps/broker/src/main.js',
      '.git/config',
      'coverage/lcov.info',
      'test/e2e/fuzz.e2e-spec.ts',
      'bench/run.ts',
      'docs/deployment.md',
      'deploy/kubernetes/overlays/example/database.env',
      'examples/sandbox.rules.yaml',
      'jest.config.js',
      'Dockerfile',
    ];
    expect(context(planted).sort()).toEqual(
      [
        'package.json',
        'package-lock.json',
        'tsconfig.json',
        'scripts/build.mjs',
        'scripts/prune-dist.sh',
        'apps/broker/src/main.ts',
        'libs/audit/src/index.ts',
      ].sort(),
    );
  });

  it('lets through, from this work tree, only files under apps/ and libs/ besides the five it names', () => {
    const files = workTreeFiles();
    const sent = context(files);
    const named = ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.mjs', 'scripts/prune-dist.sh'];
    expect(sent.filter((f) => !named.includes(f) && !/^(apps|libs)\//.test(f))).toEqual([]);
    expect(sent.filter((f) => /\.(pem|key)$|(^|\/)\.env|(^|\/)data\/|\.spec\.ts$/.test(f))).toEqual([]);
    // No source file is lost to a pattern meant for local state (a lib folder named data/, say).
    const sources = files.filter((f) => /^(apps|libs)\/.*\.ts$/.test(f) && !f.endsWith('.spec.ts'));
    expect(sources.filter((f) => !sent.includes(f))).toEqual([]);
    // Every file the build stage copies from the context is sent.
    for (const copy of of(stages().get('build')!, 'COPY')) {
      const sources = args(copy).split(/\s+/).slice(0, -1);
      for (const source of sources) expect({ source, sent: sent.some((f) => f === source || f.startsWith(`${source}/`)) }).toEqual({ source, sent: true });
    }
  });

  it('builds from what the context holds: npm run build and prune-dist.sh give the broker entry from those files alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-context-'));
    try {
      for (const f of context(workTreeFiles())) {
        mkdirSync(dirname(join(dir, f)), { recursive: true });
        copyFileSync(join(ROOT, f), join(dir, f));
      }
      // The build stage's `npm ci`, borrowed from this tree.
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      execFileSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'pipe' });
      execFileSync('sh', ['scripts/prune-dist.sh', 'dist'], { cwd: dir, stdio: 'pipe' });
      const [cmd] = of(stages().get('runtime')!, 'CMD');
      const entry = execForm(args(cmd)).at(-1)!;
      expect(readdirSync(join(dir, dirname(entry)))).toContain('main.js');
      expect(readdirSync(join(dir, 'dist', 'apps'))).toEqual(['broker']);
      expect(readdirSync(join(dir, 'dist', 'libs'))).not.toEqual(expect.arrayContaining(['simulators']));
      expect(readdirSync(join(dir, 'dist', 'libs'))).not.toEqual(expect.arrayContaining(['testing']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds on a pinned Node 24 LTS slim image in every stage', () => {
    const [image] = dockerfile.getInitialARGs().filter((a) => a.getProperty()?.getName() === 'NODE_IMAGE');
    expect(image.getProperty()?.getValue()).toMatch(/^node:24\.\d+\.\d+-(bookworm|trixie)-slim(@sha256:[0-9a-f]{64})?$/);
    const froms = dockerfile.getInstructions().filter((i) => i.getKeyword() === 'FROM');
    expect(froms.map((f) => args(f).split(/\s+/)[0])).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}', '${NODE_IMAGE}']);
    expect([...stages().keys()]).toEqual(['build', 'deps', 'runtime']);
  });

  it('runs as node, not root, on the compiled entry npm start runs, with node as PID 1 and production settings', () => {
    const runtime = stages().get('runtime')!;
    expect(of(runtime, 'USER').map(args)).toEqual(['node']);
    const [cmd] = of(runtime, 'CMD');
    const words = execForm(args(cmd));
    expect(words[0]).toBe('node');
    const entry = words[words.length - 1];
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${entry}`);
    expect(of(runtime, 'ENTRYPOINT')).toEqual([]);
    expect(of(runtime, 'ENV').map(args).join(' ')).toMatch(/\bNODE_ENV=production\b/);
    expect(of(runtime, 'STOPSIGNAL').map(args)).toEqual(['SIGTERM']);
  });

  it('installs only production dependencies, and copies into the runtime stage nothing from the context but package.json', () => {
    const all = stages();
    expect(of(all.get('deps')!, 'RUN').map(args).join(' ')).toMatch(/npm ci --omit=dev\b/);
    expect(of(all.get('build')!, 'RUN').map(args).join(' ')).toMatch(/npm run build && sh scripts\/prune-dist\.sh dist/);
    const copies = of(all.get('runtime')!, 'COPY').map(written);
    expect(copies).toEqual(['COPY --from=deps /app/node_modules ./node_modules', 'COPY --from=build /src/dist ./dist', 'COPY package.json ./']);
  });

  describe('HEALTHCHECK', () => {
    const [check] = of(stages().get('runtime')!, 'HEALTHCHECK');
    const command = execForm(args(check).replace(/^CMD\s+/, ''));
    /** The check's exit status (asynchronously: the server it asks runs in this process). */
    const run = async (env: Record<string, string>): Promise<number | null> => {
      const child = spawn(process.execPath, command.slice(1), { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    };
    let status = 200;
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? status : 404).end();
    });
    let port = 0;
    beforeAll(async () => {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => server.close());

    it('is node itself (no curl in a slim image), checking /health on PORT', () => {
      expect(command[0]).toBe('node');
      expect(written(check)).toMatch(/^HEALTHCHECK --interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+ CMD /);
    });

    it('passes on 200, fails on 503 and on a closed port, in every role (the sweeper serves /health too)', async () => {
      status = 200;
      expect(await run({ PORT: String(port) })).toBe(0);
      status = 503;
      expect(await run({ PORT: String(port) })).toBe(1);
      const closed = createServer();
      closed.listen(0, '127.0.0.1');
      await once(closed, 'listening');
      const closedPort = (closed.address() as AddressInfo).port;
      closed.close();
      await once(closed, 'close');
      expect(await run({ PORT: String(closedPort) })).toBe(1);
      expect(await run({ PORT: String(closedPort), JIT_ROLE: 'sweeper' })).toBe(1);
      status = 200;
      expect(await run({ PORT: String(port), JIT_ROLE: 'sweeper' })).toBe(0);
    });
  });

  it('is what docker-compose.yml builds and runs: documented variables, mounted files, a grace period above the shutdown deadline', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'));
    const broker = compose.services.broker;
    expect(broker.build).toBe('.');
    const documented = new Set([...readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8').matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]));
    // The clouds' SDK credential chains read these themselves (docs/providers/*.md).
    const sdkCredentials = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'GOOGLE_APPLICATION_CREDENTIALS'];
    expect(Object.keys(broker.environment).filter((name) => !documented.has(name) && !sdkCredentials.includes(name))).toEqual([]);
    const targets = (broker.volumes as string[]).map((v) => v.split(':')[1]);
    for (const file of ['JIT_TOKENS_FILE', 'JIT_POLICY_FILE', 'JIT_AUDIT_SIGNING_KEY']) expect(targets).toContain(broker.environment[file]);
    // The checkpoint volume is the folder the image makes and gives to node.
    const checkpoints = dirname(broker.environment.JIT_AUDIT_CHECKPOINT_FILE as string);
    expect(targets).toContain(checkpoints);
    expect(of(stages().get('runtime')!, 'RUN').map(args).join(' ')).toContain(`chown -R node:node /var/lib/jit-broker ${checkpoints}`);
    const graceSeconds = Number(/^(\d+)s$/.exec(broker.stop_grace_period as string)?.[1]);
    expect(graceSeconds).toBeGreaterThan(10);
  });

  it('prune-dist.sh leaves the broker and its libs, removing the sandbox, the CLI client and test-only code', () => {
    const dist = mkdtempSync(join(tmpdir(), 'jit-prune-'));
    try {
      const tree = [
        'apps/broker/src/main.js',
        'apps/broker/src/cli/audit-verify.js',
        'apps/sandbox/src/main.js',
        'apps/cli/src/main.js',
        'libs/grants/src/index.js',
        'libs/providers/aws/src/index.js',
        'libs/providers/local/src/index.js',
        'libs/simulators/kit/src/index.js',
        'libs/testing/src/index.js',
        'examples/sandbox.rules.yaml',
      ];
      for (const f of tree) {
        mkdirSync(dirname(join(dist, f)), { recursive: true });
        writeFileSync(join(dist, f), '');
      }
      execFileSync('sh', [join(ROOT, 'scripts', 'prune-dist.sh'), dist]);
      const left = tree.filter((f) => {
        try {
          readFileSync(join(dist, f));
          return true;
        } catch {
          return false;
        }
      });
      expect(left).toEqual(['apps/broker/src/main.js', 'apps/broker/src/cli/audit-verify.js', 'libs/grants/src/index.js', 'libs/providers/aws/src/index.js']);
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
