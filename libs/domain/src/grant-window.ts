import { Grant } from './grant';
import { GrantSpec } from './ports/cloud-access.provider.port';

/** The end of a grant's access window: the one place `expiresAt` is computed. */
export function expiryFrom(startsAt: Date, durationSeconds: number): Date {
  return new Date(startsAt.getTime() + durationSeconds * 1000);
}

/**
 * The start of a grant's window: when it became active, or before that when provisioning
 * started (at the request, or at the final approval), which is `expiresAt` less the duration:
 * the inverse of expiryFrom. A grant whose cloud call answered only after its window had ended
 * (faults, a crash) became active at or after `expiresAt`; its window is the one provisioning
 * started, so a provider still gets a window that ends after it starts and can revoke it.
 */
export function windowStart(g: Grant): Date {
  if (g.startsAt && g.startsAt < g.expiresAt) return g.startsAt;
  return new Date(g.expiresAt.getTime() - g.durationSeconds * 1000);
}

/** What a provider needs to know about a grant. */
export function grantSpec(g: Grant): GrantSpec {
  return {
    grantId: g.id,
    principal: g.principal,
    target: g.target,
    startsAt: windowStart(g),
    expiresAt: g.expiresAt,
    requestedBy: g.requestedBy,
    justification: g.justification,
    artifactName: g.artifactName,
    ...(g.providerRef ? { providerRef: g.providerRef } : {}),
  };
}

/** Seconds from `expiresAt` to `at` (negative when the access ends early). */
export function revocationLagSeconds(g: Grant, at: Date): number {
  return (at.getTime() - g.expiresAt.getTime()) / 1000;
}
