import { requestIdOf } from './request-id.middleware';

describe('requestIdOf', () => {
  it('should keep a caller id made of letters, digits and ._:- up to 128 characters', () => {
    for (const id of ['e2e-1', '4bf92f3577b34da6a3ce929d0e0e4736', '01J9ZQ.build:42_x', 'a'.repeat(128)]) expect(requestIdOf(id)).toBe(id);
  });

  it('should replace anything else by a fresh UUID', () => {
    for (const header of [undefined, '', 'a'.repeat(129), 'has space', 'line\nbreak', '{"json":1}', ['a', 'b']]) {
      const id = requestIdOf(header);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(id).not.toBe(header);
    }
    expect(requestIdOf(undefined)).not.toBe(requestIdOf(undefined));
  });
});
