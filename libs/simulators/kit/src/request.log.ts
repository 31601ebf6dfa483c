/** The calls a simulator received, oldest first, for wire checks in tests; beyond `max` the oldest are dropped. */
export class RequestLog<T> {
  /** The live list: tests read it directly (`sim.calls`), and `clear` empties it in place. */
  readonly entries: T[] = [];

  constructor(private readonly max = Infinity) {}

  record(entry: T): T {
    this.entries.push(entry);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
    return entry;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
