import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSandboxTokens } from './sandbox-tokens';

describe(writeSandboxTokens.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jit-sandbox-tokens-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should keep only the SHA-256 of each token, readable by the owner alone', () => {
    const tokens = writeSandboxTokens(join(dir, 'data'), undefined);
    const text = readFileSync(tokens.file, 'utf8');
    const stored = (JSON.parse(text) as { tokens: { subject: string; sha256: string }[] }).tokens;
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    expect(stored.map((t) => [t.subject, t.sha256])).toEqual([
      ['sandbox-admin-2', sha(tokens.admin2)],
      ['sandbox-pipeline', sha(tokens.requester)],
      ['sandbox-auditor', sha(tokens.auditor)],
      ['sandbox-dev', sha(tokens.dev)],
      ['sandbox-approver-1', sha(tokens.approver1)],
      ['sandbox-approver-2', sha(tokens.approver2)],
      ['sandbox-emergency', sha(tokens.emergency)],
    ]);
    for (const t of [tokens.admin, tokens.admin2, tokens.requester, tokens.auditor, tokens.dev, tokens.approver1, tokens.approver2, tokens.emergency]) {
      expect(text).not.toContain(t);
    }
    expect(statSync(tokens.file).mode & 0o777).toBe(0o600);
  });

  it('should take the admin token from the caller, and make new ones every run', () => {
    const first = writeSandboxTokens(dir, 'adm_given_by_the_operator');
    const second = writeSandboxTokens(dir, undefined);
    expect(first.admin).toBe('adm_given_by_the_operator');
    expect(second.admin).toMatch(/^adm_[\w-]{32}$/);
    expect(second.requester).not.toBe(first.requester);
    expect(new Set([first.approver1, first.approver2]).size).toBe(2);
  });
});
