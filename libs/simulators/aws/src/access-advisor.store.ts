import { randomUUID } from 'node:crypto';
import { AwsSimError } from './aws-sim.error';
import { SERVICES } from './aws-managed.policies';
import { PolicyDocument, asList } from './policy.types';

/** IAM's tracking period for last-accessed information: 400 days. */
export const TRACKING_PERIOD_DAYS = 400;

export interface ServiceUse {
  namespace: string;
  name: string;
  lastAuthenticated?: Date;
  lastAuthenticatedEntity?: string;
  lastAuthenticatedRegion?: string;
  totalAuthenticatedEntities?: number;
}

export interface AccessAdvisorJob {
  id: string;
  accountId: string;
  granularity: 'SERVICE_LEVEL' | 'ACTION_LEVEL';
  created: Date;
  completed?: Date;
  /** `GetServiceLastAccessedDetails` calls still answered IN_PROGRESS. */
  pending: number;
  services: ServiceUse[];
}

/** The service namespaces a set of identity policies allows something in (service level, conditions ignored, as access advisor reports). */
export function grantedServices(policies: PolicyDocument[]): string[] {
  const all = Object.keys(SERVICES);
  const granted = new Set<string>();
  for (const s of policies.flatMap((p) => p.Statement)) {
    if (s.Effect !== 'Allow') continue;
    if (s.NotAction !== undefined) {
      // Everything but the excluded actions: a service is out only when all of it (`svc:*`) is excluded.
      const out = new Set(asList(s.NotAction).filter((a) => a.endsWith(':*')).map((a) => a.split(':')[0].toLowerCase()));
      for (const n of all) if (!out.has(n)) granted.add(n);
      continue;
    }
    for (const a of asList(s.Action)) {
      if (a === '*') all.forEach((n) => granted.add(n));
      else granted.add(a.split(':')[0].toLowerCase());
    }
  }
  return [...granted].sort();
}

/** Seeded last use per principal and service, and the asynchronous reports built from it. */
export class AccessAdvisorStore {
  private readonly uses = new Map<string, Map<string, { at: Date; region: string }>>();
  private readonly jobs = new Map<string, AccessAdvisorJob>();
  /** How many `GetServiceLastAccessedDetails` calls answer IN_PROGRESS before a job completes. */
  pendingPolls = 1;

  record(principalArn: string, namespace: string, at: Date, region = 'us-east-1'): void {
    const byService = this.uses.get(principalArn) ?? new Map<string, { at: Date; region: string }>();
    byService.set(namespace, { at, region });
    this.uses.set(principalArn, byService);
  }

  /** A report over `entities` (the principal, or a group's members) for the services `granted`. */
  start(accountId: string, granularity: AccessAdvisorJob['granularity'], granted: string[], entities: string[], now: Date): string {
    const since = now.getTime() - TRACKING_PERIOD_DAYS * 86_400_000;
    const services = granted.map((namespace): ServiceUse => {
      const uses = entities
        .map((arn) => ({ arn, use: this.uses.get(arn)?.get(namespace) }))
        .filter((u): u is { arn: string; use: { at: Date; region: string } } => !!u.use && u.use.at.getTime() >= since)
        .sort((a, b) => b.use.at.getTime() - a.use.at.getTime());
      const latest = uses[0];
      return {
        namespace,
        name: SERVICES[namespace] ?? namespace,
        lastAuthenticated: latest?.use.at,
        lastAuthenticatedEntity: latest?.arn,
        lastAuthenticatedRegion: latest?.use.region,
        totalAuthenticatedEntities: uses.length || undefined,
      };
    });
    const id = randomUUID();
    this.jobs.set(id, { id, accountId, granularity, created: now, pending: this.pendingPolls, services });
    return id;
  }

  /** The job as the next poll sees it (IN_PROGRESS for its first `pendingPolls` polls). */
  poll(accountId: string, id: string, now: Date): AccessAdvisorJob {
    const job = this.jobs.get(id);
    if (!job || job.accountId !== accountId) throw AwsSimError.noSuchEntity(`The job with id ${id} cannot be found.`);
    if (job.pending > 0) job.pending--;
    else job.completed ??= now;
    return job;
  }
}
