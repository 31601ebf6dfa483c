import { formatIsoDuration, parseIsoDurationSeconds } from './duration';

describe(formatIsoDuration.name, () => {
  it.each([
    [0, 'PT0S'],
    [45, 'PT45S'],
    [1800, 'PT30M'],
    [5400, 'PT1H30M'],
    [86400, 'P1D'],
    [90061, 'P1DT1H1M1S'],
  ])('should write %i seconds as %s, which parses back to the same seconds', (seconds, text) => {
    expect(formatIsoDuration(seconds)).toBe(text);
    expect(parseIsoDurationSeconds(text)).toBe(seconds);
  });
});
