import { setTimeout as delay } from 'node:timers/promises';
import { AuditEventType, Clock, NotificationCursorStore, SystemClock } from '@jit/domain';
import { BackoffOptions, backoffMs, parseRetryAfter } from '@jit/resilience';
import { auditTypesFor, Notification } from './notification';
import { jsonPayload, toNotification } from './notification.mapper';
import { slackPayload } from './slack-message.mapper';
import { WebhookConfig, webhookWants } from './notifications.config';
import { SIGNATURE_HEADER, signWebhook } from './webhook.signer';

/** How often each webhook's cursor is compared with the log when nobody calls `kick()`. */
export const NOTIFICATION_POLL_INTERVAL_MS = 2_000;
/** How long a replica keeps a webhook after its last renewal; another takes over when it lapses (a crash). */
export const NOTIFICATION_LEASE_MS = 60_000;
/** Attempts per event (the first included) before it is given up and the cursor moves on. */
export const NOTIFICATION_MAX_ATTEMPTS = 6;
/** Upper bound on one POST, headers included: a stalled receiver must not hold the webhook's queue. */
export const NOTIFICATION_TIMEOUT_MS = 5_000;
/** First retry delay; doubled per attempt, with jitter. */
export const NOTIFICATION_RETRY_BASE_MS = 500;
/** Longest delay between attempts, also the cap on a receiver's Retry-After. */
export const NOTIFICATION_RETRY_CAP_MS = 30_000;
/** Events read per query. */
const BATCH_SIZE = 100;

/** 408 Request Timeout, 425 Too Early and 429 Too Many Requests mean "later"; every 5xx is retried too. */
const RETRYABLE_STATUSES = new Set([408, 425, 429]);

export type DeliveryOutcome = 'delivered' | 'retried' | 'failed';

/** Structurally satisfied by Nest's `Logger`. */
export interface NotificationLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface NotificationRelayOptions {
  /** This replica's id: the lease owner. */
  owner: string;
  pollIntervalMs?: number;
  /** Must exceed `timeoutMs + retryCapMs`: the lease is renewed before every attempt. */
  leaseMs?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  /** The broker's external base URL, for links to grants in the payloads. */
  publicUrl?: string;
  fetch?: typeof fetch;
  /** The broker's clock, for the signature's timestamp (the host's when absent). */
  clock?: Clock;
  logger?: NotificationLogger;
  /** Called once per attempt's outcome, for metrics: `retried` for each retry scheduled. */
  onOutcome?(webhook: string, outcome: DeliveryOutcome): void;
}

type AttemptResult = { ok: true } | { ok: false; retryable: boolean; reason: string; retryAfterMs?: number };

/** Why a delivery ended without moving the cursor. */
type Interrupted = 'stopped' | 'lease_lost';

interface WebhookWorker {
  config: WebhookConfig;
  auditTypes: AuditEventType[];
  doorbell: Doorbell;
}

const consoleLogger: NotificationLogger = {
  warn: (m) => console.warn(`[NotificationRelay] ${m}`),
  error: (m) => console.error(`[NotificationRelay] ${m}`),
};

/**
 * Sends the audit events a human should hear about to webhooks, using the audit log as the
 * outbox: each webhook has a cursor (the last seq handled) and a lease, so one replica at a
 * time sends it, in seq order, at least once. The cursor moves after every event; a crash
 * between a delivery and its cursor update sends that one event again, with the same
 * `X-Jit-Event-Id`.
 */
export class NotificationRelay {
  private readonly webhooks: WebhookWorker[];
  private readonly owner: string;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly retryCapMs: number;
  /** Equal jitter: half the step fixed, half random, so receivers that failed together are not hit together. */
  private readonly backoff: BackoffOptions;
  private readonly fetch: typeof fetch;
  private readonly clock: Clock;
  private readonly logger: NotificationLogger;
  private readonly stopping = new AbortController();
  private workers: Promise<void> | undefined;

  constructor(
    webhooks: readonly WebhookConfig[],
    private readonly store: NotificationCursorStore,
    private readonly options: NotificationRelayOptions,
  ) {
    this.webhooks = webhooks.map((config) => ({ config, auditTypes: auditTypesFor(config.events), doorbell: new Doorbell() }));
    this.owner = options.owner;
    this.pollIntervalMs = options.pollIntervalMs ?? NOTIFICATION_POLL_INTERVAL_MS;
    this.leaseMs = options.leaseMs ?? NOTIFICATION_LEASE_MS;
    this.maxAttempts = options.maxAttempts ?? NOTIFICATION_MAX_ATTEMPTS;
    this.timeoutMs = options.timeoutMs ?? NOTIFICATION_TIMEOUT_MS;
    this.retryBaseMs = options.retryBaseMs ?? NOTIFICATION_RETRY_BASE_MS;
    this.retryCapMs = options.retryCapMs ?? NOTIFICATION_RETRY_CAP_MS;
    this.backoff = { baseMs: this.retryBaseMs, capMs: this.retryCapMs, jitter: 'equal' };
    this.fetch = options.fetch ?? fetch;
    this.clock = options.clock ?? new SystemClock();
    this.logger = options.logger ?? consoleLogger;
    if (this.leaseMs <= this.timeoutMs + this.retryCapMs) {
      throw new Error('NotificationRelay: leaseMs must exceed timeoutMs + retryCapMs, or a lease could lapse during one attempt');
    }
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) throw new Error('NotificationRelay: maxAttempts must be a positive integer');
  }

  start(): void {
    if (this.stopping.signal.aborted) throw new Error('NotificationRelay: a stopped relay cannot be started again');
    this.workers ??= Promise.all(this.webhooks.map((w) => this.run(w))).then(() => undefined);
  }

  /** Looks for new events now instead of at the next poll, e.g. after a local commit. */
  kick(): void {
    for (const w of this.webhooks) w.doorbell.ring();
  }

  /** Lets the attempt in flight finish (and its cursor move), starts no other, then gives up the leases. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.kick();
    if (!this.workers) return;
    await this.workers;
    await Promise.all(
      this.webhooks.map((w) =>
        this.store.release(w.config.name, this.owner).catch((e: unknown) => this.logger.error(`webhook ${w.config.name}: lease not released: ${describe(e)}`)),
      ),
    );
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(w: WebhookWorker): Promise<void> {
    while (!this.stopped) {
      try {
        await this.drain(w.config, w.auditTypes);
      } catch (e) {
        this.logger.error(`webhook ${w.config.name}: relay cycle failed: ${describe(e)}`);
      }
      if (!this.stopped) await w.doorbell.wait(this.pollIntervalMs);
    }
  }

  /** Sends every pending event of one webhook, if this replica holds (or can take) its lease. */
  private async drain(webhook: WebhookConfig, auditTypes: AuditEventType[]): Promise<void> {
    let cursor = await this.store.claim(webhook.name, this.owner, this.leaseMs);
    if (cursor === null) return;
    batches: for (;;) {
      const events = await this.store.eventsAfter(cursor, auditTypes, BATCH_SIZE);
      let skippedTo: number | null = null;
      for (const event of events) {
        if (this.stopped) return;
        const notification = toNotification(event);
        if (!notification || !webhookWants(webhook, notification)) {
          skippedTo = event.seq;
          continue;
        }
        // Renews the lease before each event, and notices another replica having moved the cursor.
        const held = await this.store.claim(webhook.name, this.owner, this.leaseMs);
        if (held === null) return;
        if (held !== cursor) {
          cursor = held;
          continue batches;
        }
        const outcome = await this.deliver(webhook, notification, cursor);
        if (outcome === 'stopped' || outcome === 'lease_lost') return;
        await this.store.advance(webhook.name, this.owner, event.seq, outcome);
        cursor = event.seq;
        skippedTo = null;
      }
      if (skippedTo !== null) {
        await this.store.advance(webhook.name, this.owner, skippedTo, 'skipped');
        cursor = skippedTo;
      }
      if (events.length < BATCH_SIZE) return;
    }
  }

  private async deliver(webhook: WebhookConfig, n: Notification, cursor: number): Promise<'delivered' | 'failed' | Interrupted> {
    const payload = webhook.format === 'slack' ? slackPayload(n, this.options.publicUrl) : jsonPayload(n, this.options.publicUrl);
    const body = JSON.stringify(payload);
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(webhook, n, body, attempt);
      if (result.ok) {
        this.count(webhook, 'delivered');
        return 'delivered';
      }
      if (!result.retryable || attempt >= this.maxAttempts) {
        // The URL is not named: a Slack webhook URL is a credential.
        this.logger.warn(
          `webhook ${webhook.name}: gave up on ${n.type} event ${n.event.id} (seq ${n.event.seq}) after ${attempt} attempt(s): ${result.reason}`,
        );
        this.count(webhook, 'failed');
        return 'failed';
      }
      this.count(webhook, 'retried');
      const wait = result.retryAfterMs !== undefined ? Math.min(result.retryAfterMs, this.retryCapMs) : backoffMs(attempt, this.backoff);
      if (!(await this.sleep(wait))) return 'stopped';
      if ((await this.store.claim(webhook.name, this.owner, this.leaseMs)) !== cursor) return 'lease_lost';
    }
  }

  private async attempt(webhook: WebhookConfig, n: Notification, body: string, attempt: number): Promise<AttemptResult> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'jit-broker',
      'X-Jit-Event-Id': n.event.id,
      'X-Jit-Notification': n.type,
      'X-Jit-Delivery-Attempt': String(attempt),
    };
    if (webhook.secret) headers[SIGNATURE_HEADER] = signWebhook(webhook.secret, body, this.clock.now().getTime() / 1000);
    let response: Response;
    try {
      // Redirects are not followed: the signed body would go wherever the receiver points.
      response = await this.fetch(webhook.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      return { ok: false, retryable: true, reason: (e as Error)?.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(e) };
    }
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true };
    const retryable = RETRYABLE_STATUSES.has(response.status) || response.status >= 500;
    return {
      ok: false,
      retryable,
      reason: `HTTP ${response.status}`,
      retryAfterMs: retryable ? parseRetryAfter(response.headers.get('retry-after')) : undefined,
    };
  }

  /** A failing metrics hook must not stop the cursor from moving. */
  private count(webhook: WebhookConfig, outcome: DeliveryOutcome): void {
    try {
      this.options.onOutcome?.(webhook.name, outcome);
    } catch (e) {
      this.logger.error(`webhook ${webhook.name}: onOutcome failed: ${describe(e)}`);
    }
  }

  /** False when `stop()` cut the wait short. */
  private async sleep(ms: number): Promise<boolean> {
    try {
      await delay(ms, undefined, { signal: this.stopping.signal });
      return true;
    } catch {
      return false;
    }
  }
}

/** The error code only: undici's messages name the host and port. */
function describeNetworkError(e: unknown): string {
  const code = (e as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' ? `network error (${code})` : 'network error';
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Wakes a waiting worker early; a ring while it is busy makes its next wait return at once. */
class Doorbell {
  private rung = false;
  private wake: (() => void) | undefined;

  ring(): void {
    this.rung = true;
    this.wake?.();
  }

  async wait(ms: number): Promise<void> {
    if (!this.rung) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    this.rung = false;
  }
}
