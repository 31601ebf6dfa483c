import { AUDIT_EVENT_TYPES, AuditEvent } from '@jit/domain';
import { RelayAttempt, RelayDestination } from '../audit-relay';
import { OcsfOptions } from './ocsf.mapper';

/** What every SIEM destination's configuration has (`siem.config`). */
export interface SiemDestinationConfig {
  name: string;
  maxBatch: number;
  startAt: 'start' | 'end';
}

/**
 * What the SIEM destinations (HTTP collector, syslog) share: every audit event type, wanted
 * whole (a SIEM keeps the full trail), the cursor `siem:<name>`, and the batch size and start
 * point from their configuration. Each subclass says how a batch is sent and within what time.
 */
export abstract class SiemDestination<C extends SiemDestinationConfig> implements RelayDestination {
  readonly kind = 'siem';
  readonly types = AUDIT_EVENT_TYPES;
  abstract readonly timeoutMs: number;
  readonly name: string;
  readonly cursor: string;
  readonly maxBatch: number;
  readonly startAt: 'start' | 'end';

  constructor(
    readonly config: C,
    protected readonly ocsf: OcsfOptions = {},
  ) {
    this.name = config.name;
    this.cursor = `siem:${config.name}`;
    this.maxBatch = config.maxBatch;
    this.startAt = config.startAt;
  }

  wants(): boolean {
    return true;
  }

  abstract send(events: readonly AuditEvent[], attempt: number, signal: AbortSignal): Promise<RelayAttempt>;
}
