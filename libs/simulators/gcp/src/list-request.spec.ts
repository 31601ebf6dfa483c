import { GoogleApiError } from './google-api.error';
import { matchesQuery, matchesValue, pageOf, parseQuery, readListRequest } from './list-request';

const SIZES = { default: 2, max: 3 };
const url = (query: string) => new URL(`http://sim/v3/projects:search${query}`);

describe('list requests', () => {
  describe(parseQuery.name, () => {
    it('should read terms with : or =, quoted values, AND/OR in either case and the method\'s implicit operator', () => {
      expect(parseQuery('parent:folders/1 state=ACTIVE', 'OR', 'query')).toEqual([[{ field: 'parent', value: 'folders/1' }], [{ field: 'state', value: 'ACTIVE' }]]);
      expect(parseQuery('parent=folders/1 AND state = "ACTIVE"', 'OR', 'query')).toEqual([[{ field: 'parent', value: 'folders/1' }, { field: 'state', value: 'ACTIVE' }]]);
      expect(parseQuery('state:"DISMISSED" or state:"ACTIVE"', 'AND', 'filter')).toEqual([[{ field: 'state', value: 'DISMISSED' }], [{ field: 'state', value: 'ACTIVE' }]]);
      expect(parseQuery('displayName:"My App"', 'AND', 'query')).toEqual([[{ field: 'displayName', value: 'My App' }]]);
      expect(parseQuery('', 'AND', 'query')).toEqual([]);
    });

    it.each(['NOT state:ACTIVE', '(state:ACTIVE)', 'state:ACTIVE AND', 'AND state:ACTIVE', 'state:ACTIVE OR OR parent:folders/1', 'ACTIVE'])(
      'should refuse %j rather than misread it',
      (query) => expect(() => parseQuery(query, 'AND', 'query')).toThrow(GoogleApiError),
    );
  });

  it('should match case-insensitively with a trailing wildcard, and OR its groups of AND-ed terms', () => {
    expect(matchesValue('Inventory App', 'inventory*')).toBe(true);
    expect(matchesValue('Inventory App', 'inventory')).toBe(false);
    expect(matchesValue(undefined, '*')).toBe(false);
    const groups = parseQuery('a:1 AND b:2 OR c:3', 'AND', 'q');
    const item = { a: '1', b: '9', c: '3' };
    expect(matchesQuery(groups, item, (i, t) => i[t.field as 'a'] === t.value)).toBe(true);
    expect(matchesQuery(groups, { ...item, c: '0' }, (i, t) => i[t.field as 'a'] === t.value)).toBe(false);
  });

  describe(readListRequest.name, () => {
    it('should take system parameters and the declared ones, cap the page size and treat 0 as unspecified', () => {
      expect(readListRequest(url('?query=x&$alt=json%3Benum-encoding%3Dint&pageSize=9'), ['query'], SIZES)).toMatchObject({ params: { query: 'x' }, pageSize: 3, after: null });
      expect(readListRequest(url('?page_size=0'), ['query'], SIZES).pageSize).toBe(2);
    });

    it.each(['?parent=folders/1', '?pageSize=ten', '?pageSize=99999999999', '?pageToken=not-ours'])('should answer 400 for %s', (query) => {
      expect(() => readListRequest(url(query), ['query'], SIZES)).toThrow(expect.objectContaining({ status: 'INVALID_ARGUMENT' }));
    });
  });

  it('should page in name order with a token that only the same call accepts', () => {
    const items = ['c', 'a', 'e', 'b', 'd'];
    const first = pageOf(items, (i) => i, readListRequest(url('?query=x'), ['query'], SIZES));
    expect(first.page).toEqual(['a', 'b']);
    const second = pageOf(items, (i) => i, readListRequest(url(`?query=x&pageToken=${first.nextPageToken}`), ['query'], SIZES));
    expect(second.page).toEqual(['c', 'd']);
    const last = pageOf(items, (i) => i, readListRequest(url(`?query=x&pageToken=${second.nextPageToken}`), ['query'], SIZES));
    expect(last).toEqual({ page: ['e'] });
    expect(() => readListRequest(url(`?query=y&pageToken=${first.nextPageToken}`), ['query'], SIZES)).toThrow(GoogleApiError);
  });
});
