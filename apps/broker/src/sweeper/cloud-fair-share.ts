import { CloudName } from '@jit/domain';

/**
 * The sweeper's slots shared between clouds, so one slow or hung cloud cannot take them all
 * (Vault's fairshare idea, as slot caps). `concurrency` is split into a guaranteed share per
 * cloud (the shares sum to it). A cloud may borrow idle slots beyond its share, but the first
 * half (rounded up) of every other cloud's share is kept free for that cloud while it does not
 * use it: a cloud whose calls hang holds at most `concurrency - Σ others' reserves` slots, and
 * every other cloud finds its reserve free at once. Borrowed slots come back as their calls end,
 * each within JIT_PROVIDER_TIMEOUT: the sweeper gives a freed slot first to a cloud below its
 * share (`belowShare`). With one cloud, it has every slot.
 */
export class CloudFairShare {
  private readonly share = new Map<CloudName, number>();
  private readonly reserve = new Map<CloudName, number>();
  private readonly inFlight = new Map<CloudName, number>();

  constructor(
    private readonly concurrency: number,
    readonly clouds: readonly CloudName[],
  ) {
    const base = Math.floor(concurrency / clouds.length);
    clouds.forEach((cloud, i) => {
      const share = base + (i < concurrency % clouds.length ? 1 : 0);
      this.share.set(cloud, share);
      this.reserve.set(cloud, Math.ceil(share / 2));
      this.inFlight.set(cloud, 0);
    });
  }

  /** Slots `cloud` may fill now, keeping every other cloud's unused reserve free. */
  room(cloud: CloudName): number {
    let free = this.concurrency - this.total;
    for (const other of this.clouds) {
      if (other !== cloud) free -= Math.max(0, (this.reserve.get(other) ?? 0) - (this.inFlight.get(other) ?? 0));
    }
    return Math.max(0, free);
  }

  get total(): number {
    let sum = 0;
    for (const n of this.inFlight.values()) sum += n;
    return sum;
  }

  /** Whether `cloud` holds fewer slots than its guaranteed share: a slot that frees up goes to such a cloud first. */
  belowShare(cloud: CloudName): boolean {
    return this.inFlightOf(cloud) < (this.share.get(cloud) ?? 0);
  }

  /** Slots `cloud` holds now. */
  inFlightOf(cloud: CloudName): number {
    return this.inFlight.get(cloud) ?? 0;
  }

  take(cloud: CloudName, n = 1): void {
    this.inFlight.set(cloud, (this.inFlight.get(cloud) ?? 0) + n);
  }

  release(cloud: CloudName, n = 1): void {
    this.inFlight.set(cloud, Math.max(0, (this.inFlight.get(cloud) ?? 0) - n));
  }

  /**
   * How many slots each cloud may fill now, together: each cloud's room as if the clouds before
   * it (the roomiest first) had filled theirs, so the counts add up to no more than the free slots
   * and every cloud's reserve is kept. With `cap`, no more than that in all.
   */
  split(cap = Infinity): Map<CloudName, number> {
    const limits = new Map<CloudName, number>();
    const order = [...this.clouds].sort((a, b) => this.room(b) - this.room(a));
    let left = cap;
    for (const cloud of order) {
      const n = Math.max(0, Math.min(this.room(cloud), left));
      limits.set(cloud, n);
      left -= n;
      this.take(cloud, n);
    }
    for (const [cloud, n] of limits) this.release(cloud, n);
    return limits;
  }
}
