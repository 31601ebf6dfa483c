import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CLOUDS, CloudName, PRINCIPAL_TYPES, PrincipalType } from '@jit/domain';
import { CliError, EXIT } from '../exit-codes';

/** The request flags `jit request` and `jit exec` share. */
export interface RequestFlags {
  file?: string;
  kind?: string;
  cloud?: string;
  principal?: string;
  principalType?: string;
  target?: string[];
  duration?: string;
  justification?: string;
  ticket?: string;
}

/** The body of POST /v1/grants, as the broker's API document describes it; the broker validates it. */
export interface GrantRequestBody {
  cloud: CloudName;
  principal: { type: PrincipalType; id: string };
  target: Record<string, unknown> & { kind: string };
  duration: string;
  justification?: string;
  ticket?: string;
}

/**
 * A request from `-f request.yaml` (the API's body in YAML or JSON; `-` reads stdin), with
 * any flag given overriding the file's field. Without a file, the flags make the whole body:
 * `--kind aws.iam-policy --principal workload:arn:... --target actions=s3:PutObject ...`.
 * Only the shape is checked here; the broker names any field it refuses.
 */
export function buildRequestBody(flags: RequestFlags, readStdin: () => string = () => readFileSync(0, 'utf8')): GrantRequestBody {
  const base = flags.file ? readRequestFile(flags.file, readStdin) : {};
  const body: Record<string, unknown> = { ...base };
  const target: Record<string, unknown> = isObject(base.target) ? { ...base.target } : {};
  if (flags.kind) target.kind = flags.kind;
  for (const [key, value] of parseTargetFields(flags.target ?? [])) target[key] = value;
  if (Object.keys(target).length > 0) body.target = target;
  if (flags.cloud) body.cloud = flags.cloud;
  else if (body.cloud === undefined && typeof target.kind === 'string') body.cloud = target.kind.split('.')[0];
  if (flags.principal !== undefined) body.principal = parsePrincipal(flags.principal, flags.principalType);
  if (flags.duration !== undefined) body.duration = normaliseDuration(flags.duration);
  else if (typeof body.duration === 'string') body.duration = normaliseDuration(body.duration);
  if (flags.justification !== undefined) body.justification = flags.justification;
  if (flags.ticket !== undefined) body.ticket = flags.ticket;

  const missing = [
    typeof target.kind !== 'string' && '--kind (target.kind)',
    body.principal === undefined && '--principal',
    body.duration === undefined && '--duration',
  ].filter((m): m is string => Boolean(m));
  if (missing.length > 0) throw new CliError(`the request needs ${missing.join(', ')}, as flags or in -f <file>`, EXIT.usage);
  if (typeof body.cloud !== 'string' || !(CLOUDS as readonly string[]).includes(body.cloud)) {
    throw new CliError(`cloud: must be one of ${CLOUDS.join(', ')} (taken from the kind's prefix unless --cloud says)`, EXIT.usage);
  }
  return body as unknown as GrantRequestBody;
}

function readRequestFile(path: string, readStdin: () => string): Record<string, unknown> {
  let text: string;
  try {
    text = path === '-' ? readStdin() : readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`${path}: ${(e as Error).message}`, EXIT.usage);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (e) {
    throw new CliError(`${path}: not YAML or JSON: ${(e as Error).message}`, EXIT.usage);
  }
  if (!isObject(parsed)) throw new CliError(`${path}: must hold one request (a mapping with cloud, principal, target, duration...)`, EXIT.usage);
  return parsed;
}

/**
 * `key=value` pairs: a value in `[...]` or `{...}` is JSON (`actions=["s3:GetObject"]`, an array
 * even with one element); a key given twice collects its values into an array.
 */
export function parseTargetFields(pairs: readonly string[]): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--target ${JSON.stringify(pair)}: must be key=value`, EXIT.usage);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    if (/^\s*[[{]/.test(raw)) {
      try {
        value = JSON.parse(raw);
      } catch {
        throw new CliError(`--target ${key}: ${JSON.stringify(raw)} is not valid JSON`, EXIT.usage);
      }
    }
    const previous = fields.get(key);
    if (previous === undefined) fields.set(key, value);
    else fields.set(key, [...(Array.isArray(previous) ? previous : [previous]), ...(Array.isArray(value) ? value : [value])]);
  }
  return fields;
}

/** `type:id` (`workload:arn:aws:iam::1:role/x`), or the id alone with `--principal-type` (default `workload`). */
export function parsePrincipal(value: string, typeFlag?: string): { type: PrincipalType; id: string } {
  const colon = value.indexOf(':');
  const prefix = colon > 0 ? value.slice(0, colon) : '';
  const isType = (t: string): t is PrincipalType => (PRINCIPAL_TYPES as readonly string[]).includes(t);
  if (!typeFlag && isType(prefix)) return { type: prefix, id: value.slice(colon + 1) };
  const type = typeFlag ?? 'workload';
  if (!isType(type)) throw new CliError(`--principal-type: must be one of ${PRINCIPAL_TYPES.join(', ')}`, EXIT.usage);
  if (!value) throw new CliError('--principal: must not be empty', EXIT.usage);
  return { type, id: value };
}

/** ISO 8601 as the API takes it, or a shorthand: `90s`, `20m`, `1h`, `1h30m`. */
export function normaliseDuration(value: string): string {
  const short = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/i.exec(value.trim());
  if (short && value.trim() !== '') {
    const [, h, m, s] = short;
    return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`;
  }
  return value.trim();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
