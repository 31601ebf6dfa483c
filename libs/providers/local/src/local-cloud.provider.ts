import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  CloudAccessProvider,
  CloudName,
  GrantContext,
  GrantSpec,
  OwnedArtifact,
  Principal,
  ProviderError,
  ProvisionOutcome,
  ProvisionStatus,
  Target,
  TargetKind,
  TargetKindDescriptor,
  TargetKinds,
} from '@jit/domain';
import { LocalStandingInventory } from './local-standing.inventory';

interface Artifact {
  grantId: string;
  spec: GrantSpec;
  grantedAt: Date;
}

/** Faults a test or benchmark can inject: counts of next calls that fail, and a delay. */
export interface LocalFaults {
  transient?: number;
  terminal?: number;
  latencyMs?: number;
}

/**
 * An in-memory cloud for one `CloudName`: accepts every kind the registry gives that cloud
 * (fields were validated by the kinds' schemas), keeps one artifact per grant under its deterministic
 * name, and ends access at `expiresAt` like a cloud-side condition. Used by the sandbox until
 * a real adapter is configured, and by tests and benchmarks of the broker core.
 */
export class LocalCloudProvider extends CloudAccessProvider {
  readonly kinds: readonly TargetKind[];
  private readonly artifacts = new Map<string, Artifact>();
  private faults: Required<LocalFaults> = { transient: 0, terminal: 0, latencyMs: 0 };
  /** Every call, in order, for tests and the revocation-lag benchmark. */
  readonly calls: { op: 'grant' | 'revoke'; grantId: string; at: Date; early?: boolean }[] = [];
  /** Calls whose caller aborted them while they waited out the injected latency: nothing was changed. */
  readonly aborted: { op: 'grant' | 'revoke'; grantId: string; at: Date }[] = [];

  private readonly descriptors: readonly TargetKindDescriptor[] | undefined;

  /**
   * Standing access for discovery: what tests and the sandbox seed, plus each grant held here as
   * the broker's own (named `jit-<grant id>`, as the adapters name theirs).
   */
  readonly inventory: LocalStandingInventory;

  /** With `kinds`, the cloud serves that registry's kinds of `cloud`, and vends credentials where they say; without, any `<cloud>.` kind and none. */
  constructor(
    readonly cloud: CloudName,
    kinds?: TargetKinds,
  ) {
    super();
    this.descriptors = kinds?.ofCloud(cloud);
    this.kinds = this.descriptors?.map((d) => d.kind) ?? [];
    this.inventory = new LocalStandingInventory(cloud, () =>
      [...this.artifacts].map(([name, a]) => ({
        cloud,
        key: `broker:${name}`,
        principal: { id: a.spec.principal.id, kind: 'unknown', human: a.spec.principal.type === 'user' ? true : a.spec.principal.type === 'workload' ? false : null },
        scope: `${cloud}:local`,
        access: { type: `${cloud}.broker-grant`, name, actions: ['*'] },
        since: a.grantedAt,
        lastUsedAt: null,
        brokerOwned: true,
        brokerGrantIds: [a.grantId],
        removable: false,
        locator: { name },
      })),
    );
  }

  override standingInventory(): LocalStandingInventory {
    return this.inventory;
  }

  override vendsCredentials(kind: TargetKind): boolean {
    return this.descriptors?.some((d) => d.kind === kind && d.vendsCredentials) ?? false;
  }

  inject(faults: LocalFaults): void {
    this.faults = { ...this.faults, ...faults };
  }

  artifactName(grantId: string): string {
    return `jit-${grantId}`;
  }

  overlapKey(principal: Principal, target: Target): string {
    const { kind, ...fields } = target;
    const digest = createHash('sha256').update(JSON.stringify(fields, Object.keys(fields).sort())).digest('hex').slice(0, 32);
    return `${kind}|${principal.id}|${digest}`;
  }

  validate(spec: GrantSpec): void {
    if (this.descriptors ? !this.kinds.includes(spec.target.kind) : !spec.target.kind.startsWith(`${this.cloud}.`)) {
      throw new ProviderError('invalid', `${spec.target.kind} is not a ${this.cloud} kind`, { field: 'target.kind' });
    }
  }

  async grant(spec: GrantSpec, _context: GrantContext, signal?: AbortSignal): Promise<ProvisionOutcome> {
    await this.call('grant', spec.grantId, undefined, signal);
    if (!this.artifacts.has(spec.artifactName)) {
      this.artifacts.set(spec.artifactName, { grantId: spec.grantId, spec, grantedAt: new Date() });
    }
    const outcome: ProvisionOutcome = { status: 'active', providerRef: { local: this.cloud, artifact: spec.artifactName } };
    if (spec.target.kind === 'aws.sts-credentials') {
      outcome.credentials = {
        accessKeyId: `ASIALOCAL${spec.grantId.slice(0, 8).toUpperCase()}`,
        secretAccessKey: createHash('sha256').update(`secret:${spec.grantId}:${Math.random()}`).digest('base64'),
        sessionToken: createHash('sha256').update(`token:${spec.grantId}:${Math.random()}`).digest('base64'),
        expiration: spec.expiresAt.toISOString(),
      };
    }
    return outcome;
  }

  async revoke(spec: GrantSpec, context: GrantContext & { early: boolean }, signal?: AbortSignal): Promise<void> {
    await this.call('revoke', spec.grantId, context.early, signal);
    this.artifacts.delete(spec.artifactName);
  }

  async status(spec: GrantSpec): Promise<ProvisionStatus> {
    return this.artifacts.has(spec.artifactName) ? { status: 'active' } : { status: 'absent' };
  }

  async *listOwned(): AsyncIterable<OwnedArtifact> {
    for (const [name, a] of [...this.artifacts]) {
      yield { grantId: a.grantId, artifactName: name, locator: { name }, description: `${a.spec.target.kind} for ${a.spec.principal.id}` };
    }
  }

  async removeOrphan(artifact: OwnedArtifact): Promise<void> {
    this.artifacts.delete(artifact.artifactName);
  }

  async healthCheck(): Promise<void> {}

  /** The local cloud's own answer: is the grant's access in force at `at`? */
  holds(spec: Pick<GrantSpec, 'artifactName'>, at: Date): boolean {
    const a = this.artifacts.get(spec.artifactName);
    return !!a && at < a.spec.expiresAt;
  }

  get size(): number {
    return this.artifacts.size;
  }

  private async call(op: 'grant' | 'revoke', grantId: string, early?: boolean, signal?: AbortSignal): Promise<void> {
    this.calls.push({ op, grantId, at: new Date(), early });
    signal?.throwIfAborted();
    if (this.faults.latencyMs) {
      try {
        await delay(this.faults.latencyMs, undefined, { signal });
      } catch (e) {
        // Like a cloud whose connection the caller closed: the change is not made.
        this.aborted.push({ op, grantId, at: new Date() });
        throw e;
      }
    }
    if (this.faults.terminal > 0) {
      this.faults.terminal--;
      throw new ProviderError('terminal', 'AccessDenied: the broker may not change this principal (injected)', { code: 'AccessDenied' });
    }
    if (this.faults.transient > 0) {
      this.faults.transient--;
      throw new ProviderError('transient', 'ServiceUnavailable (injected)', { code: 'ServiceUnavailable', retryAfterMs: 10 });
    }
  }
}
