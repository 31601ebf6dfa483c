import { setTimeout as sleep } from 'node:timers/promises';
import { GenerateServiceLastAccessedDetailsCommand, GetServiceLastAccessedDetailsCommand, IAMClient, ServiceLastAccessed } from '@aws-sdk/client-iam';
import { ProviderError } from '@jit/domain';
import { errorCode, isNoSuchEntity } from './aws-error.classifier';
import { CallRunner } from './inline-policy.client';

/** IAM's tracking period for last-accessed information (access advisor and `RoleLastUsed`): 400 days. */
export const TRACKING_PERIOD_DAYS = 400;

export interface AccessAdvisorOptions {
  /** First pause between polls of a job; it grows by half each poll up to `maxPollMs`. */
  firstPollMs: number;
  maxPollMs: number;
  /** A job not done by then is given up: the assignment's usage is left unknown rather than holding the scan. */
  maxWaitMs: number;
}

/** Jobs usually finish within seconds; two minutes bounds a stuck one without losing a slow one. */
export const DEFAULT_ACCESS_ADVISOR: AccessAdvisorOptions = { firstPollMs: 500, maxPollMs: 5_000, maxWaitMs: 120_000 };

export interface ServiceUse {
  namespace: string;
  lastAuthenticated: Date | null;
}

/**
 * Access advisor (`GenerateServiceLastAccessedDetails`, then `GetServiceLastAccessedDetails` until
 * the job is COMPLETED, following `Marker`): the services a principal's policies grant, each with
 * when it last authenticated there within the tracking period.
 */
export class AccessAdvisorReader {
  constructor(
    private readonly run: CallRunner,
    private readonly options: AccessAdvisorOptions,
    private readonly signal: () => AbortSignal | undefined,
  ) {}

  /**
   * Starts a job; undefined when the broker may not (AccessDenied: the optional permission is
   * missing) or the principal was deleted since the listing.
   */
  async start(iam: IAMClient, arn: string): Promise<string | undefined> {
    try {
      const out = await this.run('GenerateServiceLastAccessedDetails', (abortSignal) =>
        iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: arn, Granularity: 'SERVICE_LEVEL' }), { abortSignal }),
      );
      return out.JobId;
    } catch (e) {
      if (denied(e) || isNoSuchEntity(e)) return undefined;
      throw e;
    }
  }

  /**
   * The jobs' services, in order: null for a job not started, failed, refused or not finished
   * within `maxWaitMs`. Polls every pending job in turn, then pauses once for the round, so a
   * page's jobs cost one wait between rounds rather than one per principal.
   */
  async results(iam: IAMClient, jobIds: (string | undefined)[]): Promise<(ServiceUse[] | null)[]> {
    const results: (ServiceUse[] | null | undefined)[] = jobIds.map((id) => (id ? undefined : null));
    const deadline = Date.now() + this.options.maxWaitMs;
    let pause = this.options.firstPollMs;
    for (;;) {
      for (const [i, id] of jobIds.entries()) {
        if (results[i] !== undefined) continue;
        const polled = await this.poll(iam, id!);
        if (polled !== 'pending') results[i] = polled;
      }
      if (results.every((r) => r !== undefined)) return results;
      if (Date.now() + pause > deadline) return results.map((r) => r ?? null);
      await sleep(pause, undefined, { signal: this.signal() });
      pause = Math.min(this.options.maxPollMs, Math.ceil(pause * 1.5));
    }
  }

  /** One look at a job: its services once COMPLETED (every page), null if it failed or is refused. */
  private async poll(iam: IAMClient, jobId: string): Promise<ServiceUse[] | null | 'pending'> {
    const services: ServiceLastAccessed[] = [];
    let marker: string | undefined;
    do {
      let out;
      try {
        out = await this.run('GetServiceLastAccessedDetails', (abortSignal) =>
          iam.send(new GetServiceLastAccessedDetailsCommand({ JobId: jobId, Marker: marker }), { abortSignal }),
        );
      } catch (e) {
        if (denied(e)) return null;
        throw e;
      }
      if (out.JobStatus === 'FAILED') return null;
      if (out.JobStatus !== 'COMPLETED') return 'pending';
      services.push(...(out.ServicesLastAccessed ?? []));
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    return services.filter((s) => s.ServiceNamespace).map((s) => ({ namespace: s.ServiceNamespace!, lastAuthenticated: s.LastAuthenticated ?? null }));
  }
}

function denied(e: unknown): boolean {
  const code = e instanceof ProviderError ? (e.options.code ?? errorCode(e.options.cause)) : errorCode(e);
  return code === 'AccessDenied';
}
