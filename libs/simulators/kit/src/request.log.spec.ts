import { RequestLog } from './request.log';

describe(RequestLog.name, () => {
  it('should keep calls oldest first and drop the oldest beyond its bound', () => {
    const log = new RequestLog<number>(3);
    for (const n of [1, 2, 3, 4, 5]) log.record(n);
    expect(log.entries).toEqual([3, 4, 5]);
  });

  it('should empty the same list a test holds when cleared', () => {
    const log = new RequestLog<string>();
    const held = log.entries;
    log.record('a');
    log.clear();
    log.record('b');
    expect(held).toEqual(['b']);
  });
});
