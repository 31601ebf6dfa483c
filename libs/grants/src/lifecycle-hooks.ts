import { CloudName, Grant, GrantState } from '@jit/domain';

/** What the lifecycle reports outward: metrics and the sweeper's timers. */
export abstract class LifecycleHooks {
  /** Seconds from `expiresAt` to the revoke call being issued. */
  abstract revocationLag(grant: Grant, seconds: number): void;
  abstract providerCall(cloud: CloudName, operation: 'grant' | 'revoke', outcome: 'ok' | 'transient' | 'terminal'): void;
  abstract transitioned(to: GrantState): void;
  /** A grant written here has sweeper work due at `at` (expiry, retry, deadline); the local sweeper arms a timer if that is soon. */
  abstract workDue(grant: Grant, at: Date): void;
  /** The access rules decided a request: effect allow (mode auto, approvals, break_glass) or deny (mode = the denial code); `dryRun` for an evaluation only. */
  abstract decided(effect: 'allow' | 'deny', mode: string, dryRun?: boolean): void;
  /**
   * Storing a change of `grant` failed with `error` and whether it was stored is unknown (the
   * database may have gone away), or a read its work needed before the cloud call failed: the
   * broker may hand the row's claim back once the database answers again, so its work is
   * retried then rather than when the lease lapses. Default: nothing.
   */
  writeFailed(_grant: Grant, _error: unknown): void {}
}

export class NoopLifecycleHooks extends LifecycleHooks {
  revocationLag(): void {}
  providerCall(): void {}
  transitioned(): void {}
  workDue(): void {}
  decided(): void {}
}
