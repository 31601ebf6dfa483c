import { Logger } from '@nestjs/common';
import { AuditLog, AuditTrail } from '@jit/audit';
import { BrokerMetrics } from '@jit/observability';
import { AccessPolicy, AccessPolicyHolder, ReloadOutcome } from '@jit/policy';

/** The rules file's text is kept in the `policy.loaded` event up to this size, so auditors can read the rules that decided. */
const MAX_AUDITED_TEXT = 256 * 1024;

export type ReloadTrigger = 'start' | 'interval' | 'api' | 'signal';

/**
 * Re-reads the rules file on a timer (every replica, so all pick up a change), on SIGHUP and
 * on the admin API. A valid change swaps the rules atomically and is audited with the file's
 * text; an invalid file is logged and counted, and the rules in force stay.
 */
export class PolicyReloader {
  private readonly logger = new Logger('AccessRules');
  private timer: NodeJS.Timeout | undefined;
  private lastRejected: string | null = null;
  private running: Promise<ReloadOutcome> | null = null;

  constructor(
    readonly holder: AccessPolicyHolder,
    private readonly auditLog: AuditLog,
    private readonly metrics: BrokerMetrics,
    private readonly replica: string,
    private readonly intervalMs: number,
  ) {}

  async start(): Promise<void> {
    await this.audit(this.holder.current, null, 'start');
    if (this.holder.file) {
      this.timer = setInterval(
        () =>
          void this.reload('interval').catch((e: unknown) =>
            this.logger.error(`rules reload failed, the rules in force stay: ${e instanceof Error ? e.message : String(e)}`),
          ),
        this.intervalMs,
      );
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    // One reload at a time: a timer tick and an API call must not audit the same change twice.
    this.running ??= this.run(trigger).finally(() => (this.running = null));
    return this.running;
  }

  private async run(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const outcome = await this.holder.reload((next, previousVersion) => this.audit(next, previousVersion, trigger));
    this.metrics.policyReloads.inc({ outcome: outcome.status });
    if (outcome.status === 'loaded') {
      this.lastRejected = null;
      this.logger.log(`rules ${outcome.policy.version.slice(0, 12)} loaded from ${outcome.policy.source} (${trigger}); ${outcome.policy.file.rules.length} rules`);
    } else if (outcome.status === 'rejected') {
      const text = outcome.issues.map((i) => `line ${i.line} ${i.field || '(document)'}: ${i.message}`).join('; ');
      if (text !== this.lastRejected || trigger !== 'interval') {
        this.logger.error(`rules file ${this.holder.file} rejected, the previous rules stay in force: ${text}`);
      }
      this.lastRejected = text;
    }
    return outcome;
  }

  private async audit(policy: AccessPolicy, previousVersion: string | null, trigger: ReloadTrigger): Promise<void> {
    const text = policy.text && policy.text.length <= MAX_AUDITED_TEXT ? policy.text : null;
    await this.auditLog.record([
      AuditTrail.policyLoaded({
        version: policy.version,
        previousVersion,
        source: policy.source,
        rules: policy.file.rules.length,
        trigger,
        replica: this.replica,
        text,
      }),
    ]);
  }
}
