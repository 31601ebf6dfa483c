import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '@jit/broker';

/** This run's bearer tokens, and the tokens file that keeps only their SHA-256. */
export interface SandboxTokens {
  file: string;
  admin: string;
  /** sandbox-admin-2: a second admin, who approves the first one's removal of standing access (discovery). */
  admin2: string;
  /** sandbox-pipeline: the automatic rule. */
  requester: string;
  auditor: string;
  /** sandbox-dev: needs two approvals. */
  dev: string;
  approver1: string;
  approver2: string;
  /** sandbox-emergency: break-glass. */
  emergency: string;
}

const token = (prefix: string) => `${prefix}_${randomBytes(24).toString('base64url')}`;

/**
 * New tokens for every run (the admin's from JIT_ADMIN_TOKEN when set), written to
 * `<dataDir>/sandbox-tokens.json` (0600) as subjects, roles and SHA-256 only: the tokens
 * themselves are printed once and never stored.
 */
export function writeSandboxTokens(dataDir: string, adminToken: string | undefined): SandboxTokens {
  const tokens = {
    admin: adminToken ?? token('adm'),
    admin2: token('adm'),
    requester: token('req'),
    auditor: token('aud'),
    dev: token('dev'),
    approver1: token('apr'),
    approver2: token('apr'),
    emergency: token('brk'),
  };
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'sandbox-tokens.json');
  writeFileSync(
    file,
    JSON.stringify({
      tokens: [
        { subject: 'sandbox-admin-2', roles: ['admin'], sha256: sha256Hex(tokens.admin2) },
        { subject: 'sandbox-pipeline', roles: ['requester'], sha256: sha256Hex(tokens.requester) },
        { subject: 'sandbox-auditor', roles: ['auditor'], sha256: sha256Hex(tokens.auditor) },
        { subject: 'sandbox-dev', roles: ['requester'], sha256: sha256Hex(tokens.dev) },
        { subject: 'sandbox-approver-1', roles: ['approver'], sha256: sha256Hex(tokens.approver1) },
        { subject: 'sandbox-approver-2', roles: ['approver'], sha256: sha256Hex(tokens.approver2) },
        { subject: 'sandbox-emergency', roles: ['requester'], sha256: sha256Hex(tokens.emergency) },
      ],
    }),
    { mode: 0o600 },
  );
  return { file, ...tokens };
}
