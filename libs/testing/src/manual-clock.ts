import { Clock } from '@jit/domain';

/**
 * The one test clock: it stands still at `at` until the test moves it (`set`, `advance`, or by
 * assigning `at`). For "another replica, later" use `ManualClock.offset(ms)`, the system time
 * shifted and then stopped. Under jest's fake timers the domain's SystemClock already follows
 * the faked Date, so no other clock is needed.
 */
export class ManualClock extends Clock {
  constructor(public at: Date = new Date()) {
    super();
  }

  /** Stopped at the system time plus `ms` (negative: in the past). */
  static offset(ms: number): ManualClock {
    return new ManualClock(new Date(Date.now() + ms));
  }

  now(): Date {
    return this.at;
  }

  set(at: Date): this {
    this.at = at;
    return this;
  }

  advance(ms: number): this {
    this.at = new Date(this.at.getTime() + ms);
    return this;
  }
}
