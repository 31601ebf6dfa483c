import { join, resolve } from 'node:path';
import { SANDBOX_ENV_SCHEMA, loadBrokerConfig } from '@jit/config';
import { CLOUDS } from '@jit/domain';
import { ensureAuditSigningKey, runUntilSignal, startBroker, targetKinds } from '@jit/broker';
import { LocalCloudProvider } from '@jit/provider-local';
import { seedLocalStanding } from './sandbox-local-standing';
import { CONSOLE_DIR, ensureConsoleBuilt } from './console-build';
import { sandboxBanner } from './sandbox-banner';
import { attachSandboxClouds, startSandboxClouds } from './sandbox-clouds';
import { registerConsoleCallbacks, startSandboxIdp } from './sandbox-idp';
import { writeSandboxTokens } from './sandbox-tokens';

/**
 * `npm run sandbox`: the broker on the embedded database (or DATABASE_URL's PostgreSQL server, migrated
 * as the broker migrates it) with the three cloud simulators, tokens generated
 * for this run (or JIT_ADMIN_TOKEN), and a printed walk-through. Its own app, so the production
 * broker (apps/broker) imports no simulator and no in-memory cloud: the sandbox hands them to the
 * same `startBroker` that `npm start` calls with the configured clouds.
 */
async function main(): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const dataDir = resolve(env.JIT_DATA_DIR ?? './data');
  const tokens = writeSandboxTokens(dataDir, env.JIT_ADMIN_TOKEN);
  // The sandbox signs audit checkpoints with a key it makes once in the data folder (kept across runs).
  const signing = env.JIT_AUDIT_UNSIGNED === 'true' ? null : ensureAuditSigningKey(dataDir);
  // JIT_SANDBOX_CLOUDS=local swaps the simulators for in-memory clouds (no wire protocol, one process
  // only); JIT_SANDBOX_SIMULATORS_FILE attaches to the simulators another sandbox started, so that
  // replicas on one database grant and revoke in the same clouds.
  // The console is served from its build; a fresh checkout or a changed page builds it first.
  await ensureConsoleBuilt(() => process.stderr.write('jit-broker sandbox: building the web console (npm run build:console)...\n')).catch((e: unknown) =>
    process.stderr.write(`jit-broker sandbox: the web console could not be built, /console will not answer: ${e instanceof Error ? e.message : String(e)}\n`),
  );
  const sandboxEnv = SANDBOX_ENV_SCHEMA.safeParse(env);
  if (!sandboxEnv.success) throw new Error(sandboxEnv.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('\n'));
  const { JIT_SANDBOX_SIMULATORS_FILE: simulatorsFile, JIT_SANDBOX_CLOUDS: cloudKind, JIT_SANDBOX_IDP_PORT: idpPort } = sandboxEnv.data;
  // The company IdP people sign in to the console with (a replica attached to another sandbox uses that one's, if told).
  // A port already taken (another sandbox, a test running beside) leaves the console with token sign-in only.
  const idp = simulatorsFile
    ? undefined
    : await startSandboxIdp(idpPort).catch((e: unknown) => {
        process.stderr.write(`jit-broker sandbox: no company IdP for the console (${e instanceof Error ? e.message : String(e)}); set JIT_SANDBOX_IDP_PORT\n`);
        return undefined;
      });
  const config = loadBrokerConfig({
    JIT_POLICY_FILE: resolve(__dirname, '..', '..', '..', 'examples', 'sandbox.rules.yaml'),
    // Access review campaigns (docs/reviews.md): `jit reviews start quarterly` as the admin.
    JIT_REVIEWS_FILE: resolve(__dirname, '..', '..', '..', 'examples', 'sandbox.reviews.yaml'),
    // Short human-readable lines for a person at a terminal; JIT_LOG_FORMAT=json gives production's.
    JIT_LOG_FORMAT: 'pretty',
    // Every 10 s rather than production's minute, so a walk-through sees checkpoints appear.
    ...(signing && {
      JIT_AUDIT_SIGNING_KEY: signing.keyFile,
      JIT_AUDIT_CHECKPOINT_FILE: join(dataDir, 'audit-checkpoints.jsonl'),
      JIT_AUDIT_CHECKPOINT_INTERVAL: 'PT10S',
    }),
    // The console (built above when missing or stale) with both sign-ins: the company IdP, and pasting a token printed below.
    JIT_CONSOLE_DIR: CONSOLE_DIR,
    JIT_CONSOLE_TOKEN_SIGN_IN: 'true',
    ...(idp && { JIT_CONSOLE_OIDC_ISSUER: idp.issuer }),
    ...env,
    JIT_ADMIN_TOKEN: tokens.admin,
    JIT_TOKENS_FILE: tokens.file,
    JIT_DATA_DIR: dataDir,
  });
  const clouds = simulatorsFile
    ? attachSandboxClouds(resolve(simulatorsFile))
    : cloudKind === 'local'
      ? {
          providers: CLOUDS.map((c) => {
            const local = new LocalCloudProvider(c, targetKinds);
            // Standing access for discovery to find (docs/discovery.md).
            seedLocalStanding(local);
            return local;
          }),
          endpoints: ['aws, azure, gcp: local in-memory clouds (with standing access for discovery)'],
          close: async () => {},
        }
      : await startSandboxClouds(join(dataDir, 'sandbox-simulators.json'));
  // Warnings and errors only, unless JIT_LOG_LEVEL asks for more (`info`: a line per request).
  const broker = await startBroker({ config, providers: clouds.providers, logLevels: env.JIT_LOG_LEVEL ? undefined : ['warn', 'error'] });
  const port = new URL(broker.url!).port;
  if (idp) registerConsoleCallbacks(idp, port, config.publicUrl);
  const base = `http://localhost:${port}`;
  process.stdout.write(sandboxBanner({ base, database: broker.database.description, endpoints: clouds.endpoints, config, tokens, signing, dataDir, idp: idp?.issuer }));
  runUntilSignal(broker, async () => {
    await clouds.close();
    await idp?.close();
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`jit-broker sandbox: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
