import { colourFor } from './style';
import { compactDuration, relativeTime } from './relative-time';
import { renderTable } from './table';

describe('output', () => {
  describe('renderTable', () => {
    it('should align columns on the text, not on colour codes, and trim the last column', () => {
      const paint = (_r: number, c: number, t: string) => (c === 1 ? `\u001b[32m${t}\u001b[39m` : t);
      expect(renderTable(['ID', 'STATE', 'WHO'], [['a', 'active', 'alice'], ['bbbb', 'pending_approval', 'bob']], paint)).toBe(
        'ID    STATE             WHO\n' + 'a     \u001b[32mactive          \u001b[39m  alice\n' + 'bbbb  \u001b[32mpending_approval\u001b[39m  bob\n',
      );
    });
  });

  describe('relativeTime', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    it('should say how far an instant is, in two units at most', () => {
      expect(relativeTime('2026-01-01T12:14:30Z', now)).toBe('in 14m 30s');
      expect(relativeTime('2026-01-01T09:00:00Z', now)).toBe('3h ago');
      expect(relativeTime('2025-12-30T10:59:00Z', now)).toBe('2d 1h ago');
      expect(relativeTime('2026-01-01T12:00:02Z', now)).toBe('just now');
      expect(relativeTime(null, now)).toBe('-');
      expect(compactDuration(0)).toBe('0s');
    });
  });

  describe('colourFor', () => {
    it('should colour only a terminal, and never with NO_COLOR or TERM=dumb', () => {
      const tty = { isTTY: true };
      const pipe = { isTTY: false };
      expect(colourFor(pipe, {})('green', 'ok')).toBe('ok');
      expect(colourFor(tty, { NO_COLOR: '1' })('green', 'ok')).toBe('ok');
      expect(colourFor(tty, { TERM: 'dumb' })('green', 'ok')).toBe('ok');
      expect(colourFor(tty, {})('green', 'ok')).toBe('\u001b[32mok\u001b[39m');
    });
  });
});
