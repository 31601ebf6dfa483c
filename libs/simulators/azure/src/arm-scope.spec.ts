import { ARM_PAGE_SIZE, armList } from './arm-scope';
import { SimContext } from './sim-context';
import { SimHttpError, SimRequest } from './sim-http';

const ctx = { baseUrl: 'https://127.0.0.1:8443' } as SimContext;
const path = '/subscriptions/s1/resourceGroups/rg a/providers/Microsoft.Authorization/roleAssignments';

function get(query: string): SimRequest {
  return { method: 'GET', path, query: new URLSearchParams(query), headers: {}, body: undefined, rawBody: '' };
}

describe('armList: ARM collection pages', () => {
  const items = Array.from({ length: ARM_PAGE_SIZE * 2 + 3 }, (_, i) => i);

  it('should answer {value, nextLink} with the same query and an opaque $skipToken, to the last page', () => {
    const seen: unknown[] = [];
    let query = 'api-version=2022-04-01&$filter=atScope()';
    for (;;) {
      const body = armList(get(query), ctx, items).body as { value: number[]; nextLink?: string };
      seen.push(...body.value);
      if (!body.nextLink) break;
      const next = new URL(body.nextLink);
      expect(next.origin).toBe(ctx.baseUrl);
      expect(decodeURIComponent(next.pathname)).toBe(path);
      expect(next.searchParams.get('api-version')).toBe('2022-04-01');
      expect(next.searchParams.get('$filter')).toBe('atScope()');
      expect(next.searchParams.get('$skipToken')).not.toMatch(/^\d+$/);
      query = next.search.slice(1);
    }
    expect(seen).toEqual(items);
  });

  it('should refuse a skip token it did not write, as InvalidSkipToken', () => {
    expect(() => armList(get('api-version=2022-04-01&$skipToken=%%%'), ctx, items)).toThrow(SimHttpError);
    expect(() => armList(get('api-version=2022-04-01&$skipToken=bm90LWEtbnVtYmVy'), ctx, items)).toThrow(/skipToken/);
  });
});
