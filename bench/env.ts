/**
 * Sizes and counts the benchmarks read from the environment or their flags, checked once at
 * start: a bad value stops the run with a message naming the variable, instead of a NaN loop.
 */

/**
 * `value` as a positive integer (`1_000_000` allowed), or `fallback` when it is unset or empty;
 * anything else throws an error naming `name` (the variable or flag) and the value.
 */
export function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value.trim().replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** The environment variable `name` as a positive integer, or `fallback` when unset or empty. */
export function intEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  return positiveInt(name, env[name], fallback);
}
