import { parseIsoDurationSeconds } from '@jit/domain';
import { normaliseDuration } from '../../../apps/cli/src/core/request-body';
import { input } from './actions-runtime';

/** `15m`, `1h30m`, `PT15M` or a number of seconds. */
export function secondsInput(name: string, fallback: string): number {
  const raw = input(name) || fallback;
  const seconds = /^\d+$/.test(raw) ? Number(raw) : parseIsoDurationSeconds(normaliseDuration(raw));
  if (seconds === undefined) throw new Error(`${name}: must be a duration such as 15m, PT15M or a number of seconds, got ${JSON.stringify(raw)}`);
  return seconds;
}
