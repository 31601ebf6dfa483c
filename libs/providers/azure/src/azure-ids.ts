import { createHash } from 'node:crypto';

/** Namespace of the broker's name-based (v5) GUIDs; changing it orphans every existing artifact. */
const BROKER_NAMESPACE = 'b5c1f0b2-6a0e-4c35-9d57-1f5b2a9f7e10';

/** A deterministic RFC 4122 version-5 GUID, so a retry after a crash reuses the same name. */
export function nameBasedGuid(name: string): string {
  const ns = Buffer.from(BROKER_NAMESPACE.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `ticketInfo.ticketSystem` of every PIM request the broker makes; reconciliation keys on it. */
export const TICKET_SYSTEM = 'jit-broker';

/** Prefix of the `description` of ARM role assignments the broker creates. */
export const ASSIGNMENT_DESCRIPTION_PREFIX = 'jit-broker grant ';

export function assignmentDescription(grantId: string, expiresAt: Date): string {
  return `${ASSIGNMENT_DESCRIPTION_PREFIX}${grantId} until ${expiresAt.toISOString()}`;
}

export function grantIdFromDescription(description: unknown): string | null {
  if (typeof description !== 'string' || !description.startsWith(ASSIGNMENT_DESCRIPTION_PREFIX)) return null;
  return description.slice(ASSIGNMENT_DESCRIPTION_PREFIX.length).split(' ')[0] || null;
}

/**
 * ISO-8601 duration in whole seconds broken into H/M/S, the form PIM documents (`PT2H`).
 * Rounded down: a schedule that ends a fraction of a second early is safe, one that ends late
 * outlives the grant.
 */
export function isoDuration(seconds: number): string {
  const s = Math.max(1, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${rest || (!h && !m) ? `${rest}S` : ''}`;
}

/**
 * The PIM schedule window for an end time: starts now (or later), truncated to the second,
 * and lasts whole seconds rounded down, so the schedule ends at most one second before `end`
 * and never after it (PIM durations are whole seconds; `expiresAt` may carry milliseconds).
 * Each adapter floors its own deadline rather than the domain rounding `expiresAt`: the port
 * promises access until `expiresAt` for any spec, including ones built from stored rows.
 */
export function scheduleWindow(startsAt: Date, end: Date, now = new Date(), minimumMs = 0): { start: Date; duration: string } {
  let startMs = floorSecond(Math.max(startsAt.getTime(), now.getTime()));
  // A window that met the minimum when it was asked for (startsAt..end) but lost part of a
  // second to the request's own latency and the truncation above: start it a moment earlier
  // (never before startsAt's second, at most MAX_BACKDATE_MS) rather than end it late or send
  // a duration PIM refuses. A grant that really has less than the minimum left is not helped.
  if (end.getTime() - startMs < minimumMs) {
    const backdated = floorSecond(end.getTime() - minimumMs);
    if (backdated >= floorSecond(startsAt.getTime()) && startMs - backdated <= MAX_BACKDATE_MS) startMs = backdated;
  }
  return { start: new Date(startMs), duration: isoDuration((end.getTime() - startMs) / 1000) };
}

/**
 * How far before the call a schedule may start to keep a minimum duration: the time between the
 * grant's start and its provisioning call, plus the second lost to truncation. PIM accepts a
 * start a moment in the past, as every client that sends "now" does by the time it arrives.
 */
export const MAX_BACKDATE_MS = 5_000;

function floorSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** The GUID at the end of a role definition id (accepts a bare GUID). */
export function roleGuid(roleDefinitionId: string): string {
  return roleDefinitionId.split('/').pop()!.toLowerCase();
}

/**
 * ARM wants `roleDefinitionId` as a full id. A bare GUID is placed under the scope's
 * subscription (where built-in roles are also addressable) or, for a management group
 * scope, at tenant level.
 */
export function armRoleDefinitionId(roleDefinitionId: string, scope: string): string {
  if (roleDefinitionId.startsWith('/')) return roleDefinitionId;
  const sub = /^\/subscriptions\/[^/]+/i.exec(scope)?.[0] ?? '';
  return `${sub}/providers/Microsoft.Authorization/roleDefinitions/${roleDefinitionId}`;
}
