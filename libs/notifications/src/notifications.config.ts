import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseYamlWithSchema } from '@jit/config';
import { CLOUDS, CloudName } from '@jit/domain';
import { GROUP_ROUTED_TYPES, NOTIFICATION_TYPES, Notification, NotificationType } from './notification';
import { SiemConfig, siemDestinationSchema } from './siem/siem.config';

/** Shortest HMAC secret accepted: 16 characters, 128 bits if random. */
export const MIN_SECRET_LENGTH = 16;

export type WebhookFormat = 'json' | 'slack';

export interface WebhookConfig {
  name: string;
  /** Sensitive (a Slack URL is a credential): never logged. */
  url: string;
  format: WebhookFormat;
  /** HMAC-SHA256 key for `X-Jit-Signature`. Sensitive: never logged. */
  secret: string | null;
  events: NotificationType[];
  /** Only events of these clouds (all when absent). */
  clouds?: CloudName[];
  /** Only approval requests asking one of these groups (all when absent); for an approvers' channel per group. */
  approverGroups?: string[];
}

export interface NotificationsConfig {
  webhooks: WebhookConfig[];
  /** SIEMs that receive every audit event (docs/siem.md). */
  siem: SiemConfig[];
}

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** Why `value` is no acceptable webhook URL; never repeats the value, which can be a secret. */
function urlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a valid URL';
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK.test(url.hostname)) return null;
  return 'must use https (http is accepted only for a loopback host)';
}

function webhookSchema(env: NodeJS.ProcessEnv) {
  return z
    .strictObject({
      name: z.string().regex(/^[a-z0-9-]{1,40}$/, 'must be 1-40 lowercase letters, digits or "-"'),
      url: z.string().optional(),
      urlEnv: envName.optional(),
      format: z.enum(['json', 'slack']).default('json'),
      secretEnv: envName.optional(),
      events: z.array(z.enum(NOTIFICATION_TYPES)).min(1).default([...NOTIFICATION_TYPES]),
      clouds: z.array(z.enum(CLOUDS)).min(1).optional(),
      approverGroups: z.array(z.string().min(1).max(80)).min(1).optional(),
    })
    .transform((w, ctx): WebhookConfig => {
      if (w.approverGroups && w.events.some((e) => !GROUP_ROUTED_TYPES.includes(e))) {
        ctx.addIssue({
          code: 'custom',
          path: ['approverGroups'],
          message: `routes ${GROUP_ROUTED_TYPES.join(', ')} only (other events do not name groups): set events: [approval.needed] or the review events`,
        });
      }
      let url = '';
      if ((w.url === undefined) === (w.urlEnv === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'set exactly one of url and urlEnv' });
      } else if (w.url !== undefined) {
        const problem = urlProblem(w.url);
        if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
        url = w.url;
      } else if (w.urlEnv !== undefined) {
        const value = env[w.urlEnv];
        const problem = value ? urlProblem(value) : 'is not set';
        if (problem) ctx.addIssue({ code: 'custom', path: ['urlEnv'], message: `environment variable ${w.urlEnv} ${problem}` });
        url = value ?? '';
      }
      let secret: string | null = null;
      if (w.secretEnv !== undefined) {
        secret = env[w.secretEnv] ?? null;
        if (!secret) {
          ctx.addIssue({ code: 'custom', path: ['secretEnv'], message: `environment variable ${w.secretEnv} is not set` });
        } else if (secret.length < MIN_SECRET_LENGTH) {
          ctx.addIssue({
            code: 'custom',
            path: ['secretEnv'],
            message: `environment variable ${w.secretEnv} must hold at least ${MIN_SECRET_LENGTH} characters`,
          });
        }
      }
      return {
        name: w.name,
        url,
        format: w.format,
        secret,
        events: [...new Set(w.events)],
        ...(w.clouds && { clouds: [...new Set(w.clouds)] }),
        ...(w.approverGroups && { approverGroups: [...new Set(w.approverGroups)] }),
      };
    });
}

/** The schema of the notifications file (webhooks and SIEMs), resolving `urlEnv`, `secretEnv`, `tokenEnv` and `apiKeyEnv` from `env`. */
export function notificationsConfigSchema(env: NodeJS.ProcessEnv) {
  return z
    .strictObject({ webhooks: z.array(webhookSchema(env)).default([]), siem: z.array(siemDestinationSchema(env)).default([]) })
    .superRefine((c, ctx) => {
      for (const list of ['webhooks', 'siem'] as const) {
        const seen = new Set<string>();
        c[list].forEach((w, i) => {
          if (seen.has(w.name)) ctx.addIssue({ code: 'custom', path: [list, i, 'name'], message: `${list === 'siem' ? 'SIEM destination' : 'webhook'} "${w.name}" is declared twice` });
          seen.add(w.name);
        });
      }
    });
}

/** Validates a notifications file; errors name the line and field (`YamlFileError`). */
export function parseNotificationsConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): NotificationsConfig {
  return parseYamlWithSchema(text, notificationsConfigSchema(env), source);
}

/** Reads the file named by `JIT_NOTIFICATIONS_FILE`. */
export function loadNotificationsConfig(path: string, env: NodeJS.ProcessEnv = process.env): NotificationsConfig {
  return parseNotificationsConfig(readFileSync(path, 'utf8'), path, env);
}

/** Whether a webhook is to hear of a notification: its events, then its cloud and approver-group filters. */
export function webhookWants(webhook: Pick<WebhookConfig, 'events' | 'clouds' | 'approverGroups'>, n: Notification): boolean {
  if (!webhook.events.includes(n.type)) return false;
  if (webhook.clouds && !webhook.clouds.some((c) => c === n.event.cloud)) return false;
  if (webhook.approverGroups) {
    const approval = n.event.data.approval as { groups?: unknown } | null | undefined;
    // A request names its approver groups; a review reminder its reviewers; an escalation the groups it went to.
    const named = n.type === 'review.reminder' ? n.event.data.reviewerGroups : n.type === 'review.escalated' ? n.event.data.escalatedTo : approval?.groups;
    const groups = Array.isArray(named) ? named : [];
    if (!webhook.approverGroups.some((g) => groups.includes(g))) return false;
  }
  return true;
}
