import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { YamlFileError, YamlIssue, parseYamlWithSchema } from '@jit/config';
import { TargetKinds } from '@jit/domain';
import { AccessPolicy } from './access-policy';
import { accessPolicyFileSchema } from './access-policy.schema';

/** Parses and validates a whole rules file; either every rule is valid or none is used. */
export function parseAccessPolicy(text: string, source: string, now: Date, kinds: TargetKinds): AccessPolicy {
  const file = parseYamlWithSchema(text, accessPolicyFileSchema(kinds), source);
  return new AccessPolicy(file, createHash('sha256').update(text).digest('hex'), now, source, text, kinds);
}

/** The policy in force when no file is configured: nothing matches, so every request is denied. */
export function emptyAccessPolicy(now: Date, kinds: TargetKinds): AccessPolicy {
  return new AccessPolicy(accessPolicyFileSchema(kinds).parse({ version: 1 }), 'none', now, '(no JIT_POLICY_FILE)', '', kinds);
}

export type ReloadOutcome =
  | { status: 'unchanged'; policy: AccessPolicy }
  | { status: 'loaded'; policy: AccessPolicy; previousVersion: string }
  | { status: 'rejected'; policy: AccessPolicy; issues: YamlIssue[] };

/**
 * Holds the rules in force and swaps them atomically on reload. An invalid file never
 * half-loads: the previous rules stay and the error is kept for the API and the logs.
 */
export class AccessPolicyHolder {
  private active: AccessPolicy;
  lastError: { at: Date; issues: YamlIssue[] } | null = null;
  private readonly listeners: ((p: AccessPolicy) => void)[] = [];

  constructor(
    initial: AccessPolicy,
    private readonly path: string | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.active = initial;
  }

  /** Reads the file once at start; an invalid file is fatal here, since there is nothing to fall back to. */
  static async open(path: string | undefined, kinds: TargetKinds, now: () => Date = () => new Date()): Promise<AccessPolicyHolder> {
    if (!path) return new AccessPolicyHolder(emptyAccessPolicy(now(), kinds), undefined, now);
    const text = await readFile(path, 'utf8');
    return new AccessPolicyHolder(parseAccessPolicy(text, path, now(), kinds), path, now);
  }

  get current(): AccessPolicy {
    return this.active;
  }

  get file(): string | undefined {
    return this.path;
  }

  onChange(listener: (p: AccessPolicy) => void): void {
    this.listeners.push(listener);
    listener(this.active);
  }

  /**
   * Re-reads the file; a changed, valid file replaces the rules once `beforeSwap` (the audit
   * record) has succeeded, so no rules are ever in force without their record.
   */
  async reload(beforeSwap: (next: AccessPolicy, previousVersion: string) => Promise<void> = async () => {}): Promise<ReloadOutcome> {
    if (!this.path) return { status: 'unchanged', policy: this.active };
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      return this.reject([{ line: 0, column: 0, field: '', message: `cannot read the file: ${(e as Error).message}` }]);
    }
    if (createHash('sha256').update(text).digest('hex') === this.active.version) {
      this.lastError = null;
      return { status: 'unchanged', policy: this.active };
    }
    let next: AccessPolicy;
    try {
      next = parseAccessPolicy(text, this.path, this.now(), this.active.kinds);
    } catch (e) {
      if (e instanceof YamlFileError) return this.reject(e.issues);
      throw e;
    }
    const previousVersion = this.active.version;
    await beforeSwap(next, previousVersion);
    this.active = next;
    this.lastError = null;
    for (const l of this.listeners) l(next);
    return { status: 'loaded', policy: next, previousVersion };
  }

  private reject(issues: YamlIssue[]): ReloadOutcome {
    this.lastError = { at: this.now(), issues };
    return { status: 'rejected', policy: this.active, issues };
  }
}

/** Where use cases read the rules in force; AccessPolicyHolder is the one implementation. */
export interface PolicySource {
  readonly current: AccessPolicy;
}
