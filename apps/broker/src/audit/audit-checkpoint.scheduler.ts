import { Logger } from '@nestjs/common';
import { AuditCheckpointer } from '@jit/audit';

/** How often the head is looked at; a checkpoint is still signed only every N events or T. */
const CHECK_EVERY_MS = 1000;

/** Ticks the checkpointer; at stop, signs what is not yet covered so a clean shutdown leaves no unsigned tail. */
export class AuditCheckpointScheduler {
  private readonly logger = new Logger(AuditCheckpointScheduler.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;

  constructor(
    private readonly checkpointer: AuditCheckpointer,
    private readonly maxDelayMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), Math.min(CHECK_EVERY_MS, this.maxDelayMs));
  }

  /** One tick; a forced one (shutdown, tests) waits for a tick in flight and then runs itself. */
  async runOnce(force = false): Promise<void> {
    if (this.running && !force) return this.running;
    while (this.running) await this.running;
    this.running = this.checkpointer
      .tick(force)
      .then(() => undefined)
      .catch((e: unknown) => this.logger.error(`audit checkpoint failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (this.running = null));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.runOnce(true);
  }
}
