import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadBrokerConfig } from '@jit/config';
import { CLOUDS } from '@jit/domain';
import { ensureAuditSigningKey, runUntilSignal, sha256Hex, startBroker } from '@jit/broker';
import { LocalCloudProvider } from '@jit/provider-local';
import { SANDBOX, startSandboxClouds } from './sandbox-clouds';

/**
 * `npm run sandbox`: the broker on the embedded database with the three cloud simulators, tokens generated
 * for this run (or JIT_ADMIN_TOKEN), and a printed walk-through. Its own app, so the production
 * broker (apps/broker) imports no simulator and no in-memory cloud: the sandbox hands them to the
 * same `startBroker` that `npm start` calls with the configured clouds.
 */
async function main(): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: '' };
  const adminToken = env.JIT_ADMIN_TOKEN ?? `adm_${randomBytes(24).toString('base64url')}`;
  const requesterToken = `req_${randomBytes(24).toString('base64url')}`;
  const auditorToken = `aud_${randomBytes(24).toString('base64url')}`;
  const token = (prefix: string) => `${prefix}_${randomBytes(24).toString('base64url')}`;
  const people = {
    dev: token('dev'),
    approver1: token('apr'),
    approver2: token('apr'),
    emergency: token('brk'),
  };
  const dataDir = resolve(env.JIT_DATA_DIR ?? './data');
  mkdirSync(dataDir, { recursive: true });
  const tokensFile = join(dataDir, 'sandbox-tokens.json');
  writeFileSync(
    tokensFile,
    JSON.stringify({
      tokens: [
        { subject: 'sandbox-pipeline', roles: ['requester'], sha256: sha256Hex(requesterToken) },
        { subject: 'sandbox-auditor', roles: ['auditor'], sha256: sha256Hex(auditorToken) },
        { subject: 'sandbox-dev', roles: ['requester'], sha256: sha256Hex(people.dev) },
        { subject: 'sandbox-approver-1', roles: ['approver'], sha256: sha256Hex(people.approver1) },
        { subject: 'sandbox-approver-2', roles: ['approver'], sha256: sha256Hex(people.approver2) },
        { subject: 'sandbox-emergency', roles: ['requester'], sha256: sha256Hex(people.emergency) },
      ],
    }),
    { mode: 0o600 },
  );
  // The sandbox signs audit checkpoints with a key it makes once in the data folder (kept across runs).
  const signing = env.JIT_AUDIT_UNSIGNED === 'true' ? null : ensureAuditSigningKey(dataDir);
  const config = loadBrokerConfig({
    JIT_POLICY_FILE: resolve(__dirname, '..', '..', '..', 'examples', 'sandbox.rules.yaml'),
    // Every 10 s rather than production's minute, so a walk-through sees checkpoints appear.
    ...(signing && {
      JIT_AUDIT_SIGNING_KEY: signing.keyFile,
      JIT_AUDIT_CHECKPOINT_FILE: join(dataDir, 'audit-checkpoints.jsonl'),
      JIT_AUDIT_CHECKPOINT_INTERVAL: 'PT10S',
    }),
    ...env,
    JIT_ADMIN_TOKEN: adminToken,
    JIT_TOKENS_FILE: tokensFile,
    JIT_DATA_DIR: dataDir,
  });
  // JIT_SANDBOX_CLOUDS=local swaps the simulators for in-memory clouds (no wire protocol).
  const clouds =
    env.JIT_SANDBOX_CLOUDS === 'local'
      ? { providers: CLOUDS.map((c) => new LocalCloudProvider(c)), endpoints: ['aws, azure, gcp: local in-memory clouds'], close: async () => {} }
      : await startSandboxClouds();
  const providers = clouds.providers;
  const broker = await startBroker({ config, providers, logLevels: ['warn', 'error'] });
  const exampleDuration = config.minDurationSeconds <= 120 && config.maxDurationSeconds >= 120 ? 'PT2M' : `PT${config.minDurationSeconds}S`;
  const base = `http://localhost:${new URL(broker.url!).port}`;
  process.stdout.write(`
JIT access broker sandbox
  API        ${base}   (OpenAPI at ${base}/docs)
  database   ${broker.database.description}
  clouds     ${clouds.endpoints.join('\n             ')}
  durations  ${config.minDurationSeconds}s .. ${config.maxDurationSeconds}s

Tokens for this run (only their SHA-256 is kept, in ${tokensFile}):
  admin      ${adminToken}
  requester  ${requesterToken}   (subject sandbox-pipeline: automatic rule)
  auditor    ${auditorToken}   (subject sandbox-auditor)
  developer  ${people.dev}   (subject sandbox-dev: needs two approvals)
  approver   ${people.approver1}   (subject sandbox-approver-1, group sre)
  approver   ${people.approver2}   (subject sandbox-approver-2, group sre)
  emergency  ${people.emergency}   (subject sandbox-emergency: break-glass)

Access rules: ${config.policyFile}  (GET $JIT/v1/policy as admin or auditor)
Audit log:    ${
    config.audit.signingKeyFile
      ? `checkpoints signed with ${config.audit.signingKeyFile} (public key ${signing?.publicKeyFile ?? 'beside it'}) into ${config.audit.checkpointFile ?? 'the database only'}`
      : 'UNSIGNED (JIT_AUDIT_UNSIGNED=true)'
  }

Try it:
  export JIT=${base} TOKEN=${requesterToken}
  curl -s -X POST $JIT/v1/grants -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{
    "cloud": "aws",
    "principal": {"type": "workload", "id": "arn:aws:iam::${SANDBOX.aws.account}:role/${SANDBOX.aws.role}"},
    "target": {"kind": "aws.iam-policy", "actions": ["s3:PutObject"], "resources": ["arn:aws:s3:::artifacts/*"]},
    "duration": "${exampleDuration}", "justification": "release 1.4.2", "ticket": "CHG-1234"}'
  curl -s $JIT/v1/grants -H "Authorization: Bearer $TOKEN"

  Other seeded targets: GCP resource projects/${SANDBOX.gcp.project}, also known as projects/${SANDBOX.gcp.projectNumber} (any serviceAccount:/user: member);
  Azure user ${SANDBOX.azure.user}, workload ${SANDBOX.azure.workload}, subscription ${SANDBOX.azure.subscription},
  Reader role ${SANDBOX.azure.reader}, Entra role ${SANDBOX.azure.directoryRole}; AWS role arn:aws:iam::${SANDBOX.aws.account}:role/${SANDBOX.aws.assumable}.

  # A person's request waits for two approvers (the response has its id):
  curl -s -X POST $JIT/v1/grants -H "Authorization: Bearer ${people.dev}" -H 'Content-Type: application/json' -d '{
    "cloud": "gcp", "principal": {"type": "user", "id": "user:dev@example.com"},
    "target": {"kind": "gcp.iam-binding", "resource": "projects/${SANDBOX.gcp.project}", "role": "roles/storage.admin"},
    "duration": "PT1H", "justification": "restore a deleted object", "ticket": "INC-7"}'
  curl -s -X POST $JIT/v1/grants/<id>/approve -H "Authorization: Bearer ${people.approver1}" -H 'Content-Type: application/json' -d '{"comment": "ok"}'
  curl -s -X POST $JIT/v1/grants/<id>/approve -H "Authorization: Bearer ${people.approver2}"

  curl -s "$JIT/v1/audit?format=jsonl" -H "Authorization: Bearer ${auditorToken}"
  curl -s $JIT/v1/audit/verify -H "Authorization: Bearer ${auditorToken}"
  curl -s "$JIT/v1/audit?format=jsonl" -H "Authorization: Bearer ${auditorToken}" > audit.jsonl
  npm run audit-verify -- audit.jsonl --checkpoints ${config.audit.checkpointFile ?? '<file>'} --public-key ${signing?.publicKeyFile ?? '<key.pub.pem>'}
                                                     # the auditor's check, without the broker

Ctrl-C stops the broker; grants and the audit log stay in ${dataDir}.
`);
  runUntilSignal(broker, () => clouds.close());
}

main().catch((e: unknown) => {
  process.stderr.write(`jit-broker sandbox: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
