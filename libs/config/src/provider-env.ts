import { z } from 'zod';

/**
 * One cloud adapter's environment variables, as its provider lib declares them: a zod schema
 * whose keys are the variable names (every message names its variable) and whose output is
 * the adapter's options, plus the deprecated names it still reads. The composition root hands
 * these to `loadConfig`, which validates the enabled clouds' variables together with the
 * broker's own (libs/config imports no provider).
 */
export interface ProviderEnv<T> {
  readonly schema: z.ZodType<T>;
  /** Deprecated name -> current name. Read when the current name is unset, with a warning at start. */
  readonly aliases: Readonly<Record<string, string>>;
}

/** An optional variable; the empty string (`FOO: ${FOO:-}` in compose files) counts as unset. */
export const optionalVar = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/** An optional integer variable from `min` to `max`, written in decimal digits only. */
export function intVar(name: string, min: number, max: number) {
  return optionalVar.transform((v, ctx): number | undefined => {
    if (v === undefined) return undefined;
    const n = /^\d{1,15}$/.test(v.trim()) ? Number.parseInt(v.trim(), 10) : Number.NaN;
    if (!(n >= min && n <= max)) {
      ctx.addIssue({ code: 'custom', message: `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });
}

/**
 * An optional list variable (items separated by commas, or by `separators`), each item checked
 * by `valid`; the message names the variable and every item it refuses.
 */
export function listVar(name: string, valid: (item: string) => boolean, expected: string, separators: RegExp = /,/) {
  return optionalVar.transform((v, ctx): string[] => {
    const items = (v ?? '').split(separators).map((s) => s.trim()).filter(Boolean);
    const bad = items.filter((item) => !valid(item));
    if (bad.length) {
      ctx.addIssue({ code: 'custom', message: `${name} holds what is not ${expected}: ${bad.join(', ')}` });
      return z.NEVER;
    }
    return items;
  });
}

/** An optional `http(s)://` URL variable, kept as written. */
export function urlVar(name: string) {
  return optionalVar.transform((v, ctx): string | undefined => {
    if (v === undefined) return undefined;
    const url = URL.canParse(v) ? new URL(v) : undefined;
    if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `${name} must be an http:// or https:// URL, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return v;
  });
}

/**
 * The variables of one provider with its deprecated names resolved: a deprecated name fills
 * its current one (one warning each); both set to different values is a problem, naming both.
 * Empty values count as unset.
 */
export function resolveAliases(
  env: NodeJS.ProcessEnv,
  aliases: Readonly<Record<string, string>>,
): { env: NodeJS.ProcessEnv; warnings: string[]; problems: string[]; readFrom: Map<string, string> } {
  const out: NodeJS.ProcessEnv = { ...env };
  const warnings: string[] = [];
  const problems: string[] = [];
  const readFrom = new Map<string, string>();
  for (const [deprecated, current] of Object.entries(aliases)) {
    const legacy = env[deprecated];
    if (legacy === undefined || legacy === '') continue;
    const now = env[current];
    if (now !== undefined && now !== '' && now !== legacy) {
      problems.push(`${deprecated}: deprecated name of ${current}, and both are set to different values: keep ${current} only`);
      continue;
    }
    warnings.push(`${deprecated} is deprecated: use ${current}`);
    if (now === undefined || now === '') {
      out[current] = legacy;
      readFrom.set(current, deprecated);
    }
  }
  return { env: out, warnings, problems, readFrom };
}
