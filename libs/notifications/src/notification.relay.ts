import { AuditEvent, AuditEventType, Clock, NotificationCursorStore, SystemClock } from '@jit/domain';
import { parseRetryAfter } from '@jit/resilience';
import { AuditRelay, RelayAttempt, RelayDestination, RelayLogger } from './audit-relay';
import { auditTypesFor } from './notification';
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
/** 408 Request Timeout, 425 Too Early and 429 Too Many Requests mean "later"; every 5xx is retried too. */
const RETRYABLE_STATUSES = new Set([408, 425, 429]);

export type DeliveryOutcome = 'delivered' | 'retried' | 'failed';

/** Structurally satisfied by Nest's `Logger`. */
export type NotificationLogger = RelayLogger;

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

const consoleLogger: NotificationLogger = {
  warn: (m) => console.warn(`[NotificationRelay] ${m}`),
  error: (m) => console.error(`[NotificationRelay] ${m}`),
};

/**
 * One webhook as a destination of the audit relay: one event per POST, the events a human should
 * hear about, given up after `maxAttempts` (a webhook is a nudge, not the record), starting at the
 * end of the log when first seen (no history is sent).
 */
export class WebhookDestination implements RelayDestination {
  readonly kind = 'webhook';
  readonly maxBatch = 1;
  readonly startAt = 'end';
  readonly name: string;
  readonly cursor: string;
  readonly types: AuditEventType[];

  constructor(
    readonly config: WebhookConfig,
    readonly maxAttempts: number,
    readonly timeoutMs: number,
    private readonly options: { publicUrl?: string; fetch: typeof fetch; clock: Clock },
  ) {
    this.name = config.name;
    // The webhook's name, as it always was: deployed cursors keep their place.
    this.cursor = config.name;
    this.types = auditTypesFor(config.events);
  }

  wants(event: AuditEvent): boolean {
    const n = toNotification(event);
    return !!n && webhookWants(this.config, n);
  }

  async send(events: readonly AuditEvent[], attempt: number, signal: AbortSignal): Promise<RelayAttempt> {
    const n = toNotification(events[0]);
    if (!n) return { ok: true };
    const payload = this.config.format === 'slack' ? slackPayload(n, this.options.publicUrl) : jsonPayload(n, this.options.publicUrl);
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'jit-broker',
      'X-Jit-Event-Id': n.event.id,
      'X-Jit-Notification': n.type,
      'X-Jit-Delivery-Attempt': String(attempt),
    };
    if (this.config.secret) headers[SIGNATURE_HEADER] = signWebhook(this.config.secret, body, this.options.clock.now().getTime() / 1000);
    // Redirects are not followed: the signed body would go wherever the receiver points. The URL
    // is never named in a reason: a Slack webhook URL is a credential.
    return postOnce(this.options.fetch, this.config.url, { method: 'POST', headers, body, redirect: 'manual', signal }, this.timeoutMs);
  }
}

/** One POST: 2xx is delivered; 408, 425, 429 and 5xx are worth retrying (with the receiver's Retry-After). */
export async function postOnce(fetcher: typeof fetch, url: string, init: RequestInit, timeoutMs: number): Promise<RelayAttempt> {
  let response: Response;
  try {
    response = await fetcher(url, init);
  } catch (e) {
    return { ok: false, retryable: true, reason: (e as Error)?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeNetworkError(e) };
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

/**
 * Sends the audit events a human should hear about to webhooks, through the audit relay (the
 * audit log is the outbox): each webhook has a cursor (the last seq handled) and a lease, so one
 * replica at a time sends it, in seq order, at least once. The cursor moves after every event; a
 * crash between a delivery and its cursor update sends that one event again, with the same
 * `X-Jit-Event-Id`.
 */
export class NotificationRelay {
  private readonly relay: AuditRelay;

  constructor(webhooks: readonly WebhookConfig[], store: NotificationCursorStore, options: NotificationRelayOptions) {
    this.relay = new AuditRelay(webhookDestinations(webhooks, options), store, {
      owner: options.owner,
      pollIntervalMs: options.pollIntervalMs ?? NOTIFICATION_POLL_INTERVAL_MS,
      leaseMs: options.leaseMs ?? NOTIFICATION_LEASE_MS,
      retryBaseMs: options.retryBaseMs ?? NOTIFICATION_RETRY_BASE_MS,
      retryCapMs: options.retryCapMs ?? NOTIFICATION_RETRY_CAP_MS,
      clock: options.clock,
      logger: options.logger ?? consoleLogger,
      onOutcome: (d, outcome) => options.onOutcome?.(d.name, outcome),
    });
  }

  start(): void {
    this.relay.start();
  }

  /** Looks for new events now instead of at the next poll, e.g. after a local commit. */
  kick(): void {
    this.relay.kick();
  }

  /** Lets the attempt in flight finish (and its cursor move), starts no other, then gives up the leases. */
  async stop(): Promise<void> {
    await this.relay.stop();
  }
}

/** The webhooks as relay destinations, with the relay options' attempts, timeout, fetch and clock. */
export function webhookDestinations(
  webhooks: readonly WebhookConfig[],
  options: Pick<NotificationRelayOptions, 'maxAttempts' | 'timeoutMs' | 'publicUrl' | 'fetch' | 'clock'> = {},
): WebhookDestination[] {
  const maxAttempts = options.maxAttempts ?? NOTIFICATION_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error('NotificationRelay: maxAttempts must be a positive integer');
  const timeoutMs = options.timeoutMs ?? NOTIFICATION_TIMEOUT_MS;
  const shared = { publicUrl: options.publicUrl, fetch: options.fetch ?? fetch, clock: options.clock ?? new SystemClock() };
  return webhooks.map((w) => new WebhookDestination(w, maxAttempts, timeoutMs, shared));
}

/** The error code only: undici's messages name the host and port. */
export function describeNetworkError(e: unknown): string {
  const code = (e as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' ? `network error (${code})` : 'network error';
}
