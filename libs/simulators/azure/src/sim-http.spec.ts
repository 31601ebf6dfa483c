import { asText } from './sim-http';

describe('asText', () => {
  it('should keep strings, numbers and booleans as String() would', () => {
    expect([asText('Reader'), asText(5), asText(false)]).toEqual(['Reader', '5', 'false']);
  });

  it('should turn an absent value into an empty string', () => {
    expect([asText(undefined), asText(null)]).toEqual(['', '']);
  });

  it('should show an object sent where text belongs as JSON, not "[object Object]"', () => {
    expect(asText({ id: 'x' })).toBe('{"id":"x"}');
    expect(asText(['a'])).toBe('["a"]');
  });
});
