import { safeReturnTo } from './console-auth';

describe(safeReturnTo.name, () => {
  it.each(['/console/', '/console/inbox', '/console/grants/0192f0c4-0000-7000-8000-000000000000?tab=history', '/console'])('should keep the console path %s', (path) => {
    expect(safeReturnTo(path)).toBe(path);
  });

  it.each([
    ['an absolute URL', 'https://evil.example/console/'],
    ['a protocol-relative URL', '//evil.example/console/'],
    ['a path outside the console', '/v1/grants'],
    ['a look-alike prefix', '/consolexyz'],
    ['a backslash, which browsers read as a slash', '/console/\\\\evil.example'],
    ['a header break', '/console/\r\nSet-Cookie: x=1'],
    ['nothing', undefined],
  ])('should go to /console/ instead of %s', (_what, path) => {
    expect(safeReturnTo(path)).toBe('/console/');
  });
});
