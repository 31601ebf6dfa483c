/**
 * What may import what: /work/shared/docs/style.md §2 for this repository's libs, as the
 * architecture should be (docs/architecture.md explains the layers). `npm run lint` runs it.
 * No exceptions: every file is checked in full.
 */

/** The lib a path belongs to, as a capture group: `domain`, `providers/aws`, `simulators/gcp`. */
const LIB = '^libs/((?:providers|simulators)/[^/]+|[^/]+)/';
/** A lib's entries: its barrel, and a provider lib's SDK-free `@jit/provider-<cloud>/kinds` (src/kinds.ts). */
const ENTRY = `(${LIB}src/index|^libs/providers/[^/]+/src/kinds)\\.ts$`;
/** In-repo code, i.e. everything that is not a package or a Node built-in. */
const REPO = '^(libs|apps|test|bench|integrations)/';
/** Files that only tests run: test tiers, benchmarks, unit specs next to the code. */
const TEST_ONLY = ['^test/', '^bench/', '\\.spec\\.ts$'];

/** A lib's code may import only the lib itself and the libs listed; its unit specs also libs/testing. */
function libImports(name, lib, allowed, comment) {
  const rule = (from, libs) => ({
    name,
    comment,
    severity: 'error',
    from,
    to: { path: REPO, pathNot: [lib, ...libs].map((l) => `^libs/${l}/src/`) },
  });
  return [
    rule({ path: `^libs/${lib}/`, pathNot: '\\.spec\\.ts$' }, allowed),
    rule({ path: `^libs/${lib}/.*\\.spec\\.ts$` }, [...allowed, 'testing']),
  ];
}

const PROVIDER_ALLOWED = ['domain', 'config', 'observability', 'resilience'];
const [PERSISTENCE_PRODUCTION, PERSISTENCE_SPECS] = libImports(
  'persistence-imports-inward',
  'persistence',
  ['domain', 'config', 'observability'],
  'Persistence: domain, config, observability.',
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, within a lib or across libs (style.md §4: no forwardRef, no cycles).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves; a deep `@jit/<lib>/src/...` import does not (the paths map only the barrel).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },

    // Inward dependencies (style.md §2). Each lib lists the libs it may import.
    ...libImports('domain-imports-nothing', 'domain', [], 'The domain imports nothing in the repo.'),
    ...libImports('config-imports-domain-at-most', 'config', ['domain'], 'Config: the domain (enums, id types) at most.'),
    ...libImports('observability-imports-domain-at-most', 'observability', ['domain'], 'Observability: the domain at most.'),
    ...libImports('identity-imports-inward', 'identity', ['domain', 'config'], 'Identity (token verification): domain and config.'),
    ...libImports('policy-imports-inward', 'policy', ['domain', 'config', 'identity'], 'Access rules: domain, config, and identity for the OIDC issuers a rules file names.'),
    ...libImports('audit-imports-inward', 'audit', ['domain', 'config', 'observability'], 'Audit: domain, config, observability.'),
    ...libImports('resilience-imports-nothing', 'resilience', [], 'Resilience (backoff, Retry-After, retry and cancelling timeout on cockatiel): imports nothing in the repo.'),
    ...libImports('notifications-imports-inward', 'notifications', ['domain', 'config', 'observability', 'resilience'], 'Notifications: domain, config, observability, resilience.'),
    ...libImports('discovery-imports-inward', 'discovery', ['domain', 'config', 'observability', 'policy', 'audit', 'grants', 'resilience'], 'Discovery: the domain (its ports), config, observability, the access rules (to check proposed entries), the audit trail, the grants lib (its approval eligibility and actor) and resilience; clouds and storage only through domain ports.'),
    ...libImports('reviews-imports-inward', 'reviews', ['domain', 'config', 'observability', 'policy', 'audit', 'grants', 'resilience'], 'Access reviews: the domain (its ports, discovery findings and removals through them), config, observability, the access rules, the audit trail, the grants lib (approver eligibility, actor) and resilience; clouds and storage only through domain ports.'),
    ...libImports('grants-imports-inward', 'grants', ['domain', 'policy', 'audit', 'resilience'], 'Use cases: the domain, the access rules, the audit trail and resilience; persistence and clouds only through domain ports.'),
    PERSISTENCE_PRODUCTION,
    PERSISTENCE_SPECS,
    ...['aws', 'azure', 'gcp', 'local'].flatMap((cloud) =>
      libImports(
        `provider-${cloud}-imports-inward`,
        `providers/${cloud}`,
        PROVIDER_ALLOWED,
        'A cloud provider: domain, config, observability, resilience; not another provider, not grants or persistence.',
      ),
    ),
    ...['aws', 'azure', 'gcp', 'idp'].flatMap((cloud) =>
      libImports(
        `simulator-${cloud}-imports-the-kit-only`,
        `simulators/${cloud}`,
        ['simulators/kit'],
        'A simulator stands in for the cloud: it shares no code with the adapters it checks, nor with the domain or another simulator; only the simulator kit (server, faults, request log).',
      ),
    ),
    ...libImports(
      'client-imports-nothing',
      'client',
      [],
      'The typed client (@jit/client) speaks only the wire contract, typed from docs/openapi.json: it imports nothing in the repo, so a CLI or an action built on it carries no broker code.',
    ),
    {
      name: 'client-packages',
      comment: 'The typed client uses openapi-fetch and nothing else of the packages, so any Node 20 program can carry it.',
      severity: 'error',
      from: { path: '^libs/client/', pathNot: TEST_ONLY },
      to: { path: 'node_modules/', pathNot: 'node_modules/(openapi-fetch|openapi-typescript-helpers)/' },
    },
    ...libImports(
      'simulator-kit-imports-nothing',
      'simulators/kit',
      [],
      'The simulator kit (loopback server, fault counters, request log) is shared by the simulators and imports nothing in the repo.',
    ),
    ...libImports(
      'testing-imports-what-it-fakes',
      'testing',
      ['domain', 'config', 'observability', 'audit', 'policy', 'identity', 'grants', 'persistence', 'providers/[^/]+', 'simulators/[^/]+'],
      'libs/testing: the domain and the libs it fakes or seeds; never an app.',
    ),
    {
      name: 'cli-imports-domain-config-observability',
      comment: 'apps/cli is a remote client: no persistence, provider or use-case code; it speaks to the broker through the typed client (@jit/client).',
      severity: 'error',
      from: { path: '^apps/cli/' },
      to: { path: REPO, pathNot: ['^apps/cli/', '^libs/(domain|config|observability|client)/src/'] },
    },
    {
      name: 'integrations-import-the-cli-core',
      comment: 'integrations/ (the GitHub Action) are bundled clients: their own code, the jit CLI core and what it uses (exit codes, @jit/client, @jit/domain); no broker code ends up in a bundle.',
      severity: 'error',
      from: { path: '^integrations/' },
      to: { path: REPO, pathNot: ['^integrations/', '^apps/cli/src/core/', '^apps/cli/src/exit-codes\\.ts$', '^libs/(domain|client)/src/'] },
    },
    {
      name: 'console-imports-client-and-domain-only',
      comment: 'apps/console is a browser app: it reaches the broker through the typed client (@jit/client) on the public v1 API, and may name the domain\'s types; no Nest, server lib or other app ends up in its bundle.',
      severity: 'error',
      from: { path: '^apps/console/' },
      to: { path: REPO, pathNot: ['^apps/console/', '^libs/(client|domain)/src/'] },
    },
    {
      name: 'console-packages',
      comment: 'The console bundles React, its router, TanStack Query, a chart library and what @jit/client uses (openapi-fetch): nothing server-side. Its unit specs (jest) are not bundled.',
      severity: 'error',
      from: { path: '^apps/console/', pathNot: TEST_ONLY },
      to: { path: 'node_modules/', pathNot: 'node_modules/(react|react-dom|react-router|@tanstack/react-query|@tanstack/query-core|openapi-fetch|openapi-typescript-helpers|uplot|chart\\.js|react-chartjs-2|vite)/' },
    },
    {
      name: 'libs-not-to-apps-or-tests',
      comment: 'Libs never import an app, a test or a benchmark.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^(apps|test|bench)/' },
    },

    // Test-only code stays out of production code.
    {
      name: 'simulators-only-in-tests-and-sandbox',
      comment: 'The cloud simulators are imported only by tests, libs/testing and the sandbox app.',
      severity: 'error',
      from: { pathNot: [...TEST_ONLY, '^libs/testing/', '^libs/simulators/', '^apps/sandbox/'] },
      to: { path: '^libs/simulators/' },
    },
    {
      name: 'in-memory-cloud-only-in-tests-and-sandbox',
      comment: 'The in-memory cloud (provider-local) is imported only by tests, libs/testing and the sandbox app.',
      severity: 'error',
      from: { pathNot: [...TEST_ONLY, '^libs/testing/', '^libs/providers/local/', '^apps/sandbox/'] },
      to: { path: '^libs/providers/local/' },
    },
    {
      name: 'broker-not-to-sandbox',
      comment: 'The production broker does not import the sandbox app; the sandbox imports the broker (@jit/broker).',
      severity: 'error',
      from: { path: '^apps/broker/' },
      to: { path: '^apps/sandbox/' },
    },
    {
      name: 'broker-reaches-no-test-code',
      comment:
        'The broker app, from each of its entry points (npm start and the two CLIs), reaches no simulator, no in-memory ' +
        'cloud, no libs/testing and not the sandbox, directly or through another module: its clouds come from configuration only.',
      severity: 'error',
      from: { path: '^apps/broker/src/(main|index|cli/[^/]+)\\.ts$' },
      to: { reachable: true, path: '^(libs/(simulators/[^/]+|providers/local|testing)/src/index\\.ts|apps/sandbox/)' },
    },
    {
      name: 'sandbox-through-the-broker-barrel',
      comment: 'The sandbox app embeds the broker through @jit/broker (apps/broker/src/index.ts), never a file inside it.',
      severity: 'error',
      from: { path: '^apps/sandbox/' },
      to: { path: '^apps/broker/', pathNot: '^apps/broker/src/index\\.ts$' },
    },
    {
      name: 'testing-only-in-tests',
      comment: 'libs/testing is imported only by tests and benchmarks.',
      severity: 'error',
      from: { pathNot: [...TEST_ONLY, '^libs/testing/'] },
      to: { path: '^libs/testing/' },
    },

    // Each lib through its barrel.
    {
      name: 'lib-through-its-barrel',
      comment: 'Another lib is imported as @jit/<lib> (its src/index.ts, or a provider lib\'s SDK-free @jit/provider-<cloud>/kinds, src/kinds.ts), never a file inside it or by a relative path.',
      severity: 'error',
      from: { path: LIB },
      to: { path: '^libs/', pathNot: ['^libs/$1/', ENTRY] },
    },
    {
      name: 'apps-and-tests-through-the-barrel',
      comment: 'Apps, tests and benchmarks import a lib as @jit/<lib> (or a provider lib\'s @jit/provider-<cloud>/kinds), never a file inside it.',
      severity: 'error',
      from: { path: '^(apps|test|bench)/' },
      to: { path: '^libs/', pathNot: ENTRY },
    },
    {
      name: 'no-own-barrel',
      comment: 'A lib does not import its own barrel (import the file; the barrel is for other libs).',
      severity: 'error',
      from: { path: `${LIB}src/`, pathNot: `${LIB}src/index\\.ts$` },
      to: { path: '^libs/$1/src/(index|kinds)\\.ts$' },
    },

    // Frameworks and SDKs where they belong.
    {
      name: 'libs-free-of-the-framework',
      comment: 'Libs do not import Nest or Express: the framework lives in apps (the composition root).',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: 'node_modules/(@nestjs/|express/|@types/express/)' },
    },
    {
      name: 'domain-pure',
      comment: 'The domain is pure TypeScript: of packages, only zod and tinyduration (no Nest, TypeORM, cloud SDK or I/O client).',
      severity: 'error',
      from: { path: '^libs/domain/' },
      to: { path: 'node_modules/', pathNot: 'node_modules/(zod|tinyduration)/' },
    },
    {
      name: 'database-only-in-persistence',
      comment: 'TypeORM, pg and PGlite are used by libs/persistence only (the app, the composition root, may hold a DataSource).',
      severity: 'error',
      from: { path: '^libs/', pathNot: ['^libs/persistence/', '^libs/testing/'] },
      to: { path: 'node_modules/(typeorm|pg|@electric-sql)/' },
    },
    ...[
      ['aws', '@aws-sdk/|@smithy/'],
      ['azure', '@azure/|@microsoft/'],
      ['gcp', '@google-cloud/|google-auth-library/|google-gax/'],
    ].map(([cloud, sdk]) => ({
      name: `${cloud}-sdk-only-in-its-provider`,
      comment: `The ${cloud} SDK is used by libs/providers/${cloud} only.`,
      severity: 'error',
      from: { path: '^(libs|apps)/', pathNot: [`^libs/providers/${cloud}/`, ...TEST_ONLY] },
      to: { path: `node_modules/(${sdk})` },
    })),
    {
      name: 'declared-dependencies-only',
      comment:
        'Production code imports only packages declared in package.json dependencies (the image installs no others); ' +
        'the test-only libs (testing, simulators, the in-memory clouds) and the console, bundled at build time, may use devDependencies.',
      severity: 'error',
      // apps/console: bundled at build time into static files (its packages are devDependencies; console-packages lists them).
      from: { path: '^(libs|apps)/', pathNot: [...TEST_ONLY, '^libs/testing/', '^libs/simulators/', '^libs/providers/local/', '^apps/console/'] },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown', 'npm-dev'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The published client's build (npm run build:client), when there is one: not source.
    exclude: { path: '^libs/client/dist/' },
    // Type-only imports count: a layer that names another's types depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
