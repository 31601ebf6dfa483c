import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerConfig } from '@jit/config';
import { SANDBOX } from './sandbox-clouds';
import { SandboxTokens } from './sandbox-tokens';

export interface SandboxBannerFacts {
  /** http://localhost:PORT */
  base: string;
  database: string;
  endpoints: string[];
  config: BrokerConfig;
  tokens: SandboxTokens;
  signing: { publicKeyFile: string } | null;
  dataDir: string;
  /** The simulated company IdP's issuer URL, when this sandbox started it. */
  idp?: string;
}

/** What `npm run sandbox` prints once the broker listens: where things are, this run's tokens, a walk-through. */
export function sandboxBanner({ base, database, endpoints, config, tokens, signing, dataDir, idp }: SandboxBannerFacts): string {
  const exampleDuration = config.minDurationSeconds <= 120 && config.maxDurationSeconds >= 120 ? 'PT2M' : `PT${config.minDurationSeconds}S`;
  return `
JIT access broker sandbox
  API        ${base}   (OpenAPI at ${base}/docs)
  database   ${database}
  clouds     ${endpoints.join('\n             ')}
  durations  ${config.minDurationSeconds}s .. ${config.maxDurationSeconds}s
  console    ${base}/console/   (${existsSync(join(config.console.dir, 'index.html')) ? 'built' : 'not built yet: npm run build:console'})
  IdP        ${idp ? `${idp}   (the company IdP: sign in as alice (developers), bob or carol (sre, approvers), dave (audit, auditor))` : 'none in this process (JIT_CONSOLE_OIDC_ISSUER)'}

Tokens for this run (only their SHA-256 is kept, in ${tokens.file}):
  admin      ${tokens.admin}
  admin      ${tokens.admin2}   (subject sandbox-admin-2: approves another admin's removal of standing access)
  requester  ${tokens.requester}   (subject sandbox-pipeline: automatic rule)
  auditor    ${tokens.auditor}   (subject sandbox-auditor)
  developer  ${tokens.dev}   (subject sandbox-dev: needs two approvals)
  approver   ${tokens.approver1}   (subject sandbox-approver-1, group sre)
  approver   ${tokens.approver2}   (subject sandbox-approver-2, group sre)
  emergency  ${tokens.emergency}   (subject sandbox-emergency: break-glass)

Access rules: ${config.policyFile}  (GET $JIT/v1/policy as admin or auditor)
Audit log:    ${
    config.audit.signingKeyFile
      ? `checkpoints signed with ${config.audit.signingKeyFile} (public key ${signing?.publicKeyFile ?? 'beside it'}) into ${config.audit.checkpointFile ?? 'the database only'}`
      : 'UNSIGNED (JIT_AUDIT_UNSIGNED=true)'
  }

Try it:
  export JIT=${base} TOKEN=${tokens.requester}
  curl -s -X POST $JIT/v1/grants -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{
    "cloud": "aws",
    "principal": {"type": "workload", "id": "arn:aws:iam::${SANDBOX.aws.account}:role/${SANDBOX.aws.role}"},
    "target": {"kind": "aws.iam-policy", "actions": ["s3:PutObject"], "resources": ["arn:aws:s3:::artifacts/*"]},
    "duration": "${exampleDuration}", "justification": "release 1.4.2", "ticket": "CHG-1234"}'
  curl -s $JIT/v1/grants -H "Authorization: Bearer $TOKEN"

  Other seeded targets: GCP resource projects/${SANDBOX.gcp.project}, also known as projects/${SANDBOX.gcp.projectNumber} (any serviceAccount:/user: member);
  Azure user ${SANDBOX.azure.user}, workload ${SANDBOX.azure.workload}, subscription ${SANDBOX.azure.subscription},
  Reader role ${SANDBOX.azure.reader}, Entra role ${SANDBOX.azure.directoryRole}; AWS role arn:aws:iam::${SANDBOX.aws.account}:role/${SANDBOX.aws.assumable}.

  # Or with the jit CLI (docs/clients.md): STS keys for one command only, revoked when it ends
  export JIT_URL=$JIT JIT_TOKEN=${tokens.requester}
  npm run --silent jit -- exec --kind aws.sts-credentials --target roleArn=arn:aws:iam::${SANDBOX.aws.account}:role/${SANDBOX.aws.assumable} \\
    --principal workload:ci-run-1 --duration PT20M --justification 'deploy' -- env   # AWS_* in the command's environment
  npm run --silent jit -- ls

  # A person's request waits for two approvers (the response has its id):
  curl -s -X POST $JIT/v1/grants -H "Authorization: Bearer ${tokens.dev}" -H 'Content-Type: application/json' -d '{
    "cloud": "gcp", "principal": {"type": "user", "id": "user:dev@example.com"},
    "target": {"kind": "gcp.iam-binding", "resource": "projects/${SANDBOX.gcp.project}", "role": "roles/storage.admin"},
    "duration": "PT1H", "justification": "restore a deleted object", "ticket": "INC-7"}'
  curl -s -X POST $JIT/v1/grants/<id>/approve -H "Authorization: Bearer ${tokens.approver1}" -H 'Content-Type: application/json' -d '{"comment": "ok"}'
  curl -s -X POST $JIT/v1/grants/<id>/approve -H "Authorization: Bearer ${tokens.approver2}"

  curl -s "$JIT/v1/audit?format=jsonl" -H "Authorization: Bearer ${tokens.auditor}"
  curl -s $JIT/v1/audit/verify -H "Authorization: Bearer ${tokens.auditor}"
  curl -s "$JIT/v1/audit?format=jsonl" -H "Authorization: Bearer ${tokens.auditor}" > audit.jsonl
  npm run audit-verify -- audit.jsonl --checkpoints ${config.audit.checkpointFile ?? '<file>'} --public-key ${signing?.publicKeyFile ?? '<key.pub.pem>'}
                                                     # the auditor's check, without the broker

Ctrl-C stops the broker; grants and the audit log stay in ${dataDir}.
`;
}
