import { z } from 'zod';

/** The tables of docs/configuration.md, in their order there. */
export const ENV_GROUPS = {
  core: 'Core: API, roles, tokens, rules, grant bounds',
  database: 'Database',
  sweeper: 'Sweeper, revocation and reconciliation',
  audit: 'Audit log and signed checkpoints',
  notifications: 'Notifications and SIEM streaming',
  logging: 'Logging and tracing',
  console: 'Web console (`/console`)',
  discovery: 'Discovery of standing access',
  reviews: 'Access reviews',
  aws: 'AWS adapter',
  azure: 'Azure adapter',
  gcp: 'GCP adapter',
  sandbox: 'Sandbox (`npm run sandbox` only)',
} as const;
export type EnvGroup = keyof typeof ENV_GROUPS;

/** What docs/configuration.md says about one environment variable. */
export interface EnvDoc {
  group: EnvGroup;
  /** Meaning, in Markdown; one paragraph. */
  description: string;
  /** The default as a reader should see it (a value in backticks, or words such as "(none)"). */
  default?: string;
  /** A credential or a value that may carry one: never logged. */
  secret?: boolean;
}

/**
 * Every environment variable the broker and the sandbox read is registered here from its zod
 * schema (`.register(ENV_DOCS, {...})`), so the configuration reference (`npm run docs:config`
 * writes docs/configuration.md) is generated from the code that reads the variables.
 */
export const ENV_DOCS = z.registry<EnvDoc>();

/** The documentation of each variable of an object schema whose keys are variable names; throws naming an undocumented one. */
export function envDocsOf(shape: Readonly<Record<string, z.ZodType>>): { name: string; doc: EnvDoc }[] {
  return Object.entries(shape).map(([name, schema]) => {
    const doc = ENV_DOCS.get(schema);
    if (!doc) throw new Error(`${name} has no documentation: add .register(ENV_DOCS, { group, description, default }) to its schema`);
    return { name, doc };
  });
}

/** A copy of `schema` with its documentation: shared building blocks (`optionalVar`) stay undocumented themselves. */
export function documented<T extends z.ZodType>(schema: T, doc: EnvDoc): T {
  const copy = schema.clone();
  ENV_DOCS.add(copy, doc);
  return copy;
}
