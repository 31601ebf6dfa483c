import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CliError, EXIT } from '../exit-codes';
import { DEFAULT_GITLAB_TOKEN_VAR, DEFAULT_OIDC_AUDIENCE, TokenSource, githubActionsToken, staticToken, tokenFile } from './token-source';

/** The global flags every command takes (commander's option names). */
export interface ConnectionFlags {
  url?: string;
  token?: string;
  tokenFile?: string;
  audience?: string;
  config?: string;
}

export interface Settings {
  url: string;
  token: TokenSource;
  /**
   * The environment variables that carry the CLI's own broker credentials, set or not, whichever
   * is in use: `jit exec` keeps them from its command, which could otherwise request grants as the user.
   */
  credentialVariables: readonly string[];
}

/** GitLab's older job JWTs (CI_JOB_JWT, _V1, _V2): a pipeline identity too, though the CLI does not read them. */
const GITLAB_JOB_JWT = /^CI_JOB_JWT(_V\d+)?$/;

const configFileSchema = z.strictObject({
  url: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  tokenFile: z.string().min(1).optional(),
  audience: z.string().min(1).optional(),
  oidcTokenVar: z.string().min(1).optional(),
});
type ConfigFile = z.infer<typeof configFileSchema>;

/** `JIT_CONFIG`, else `$XDG_CONFIG_HOME/jit/config.yaml`, else `~/.config/jit/config.yaml`. */
export function configFilePath(env: NodeJS.ProcessEnv): string {
  if (env.JIT_CONFIG) return env.JIT_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'jit', 'config.yaml');
}

function readConfigFile(path: string, required: boolean): ConfigFile {
  if (!existsSync(path)) {
    if (required) throw new CliError(`config file ${path} does not exist`, EXIT.usage);
    return {};
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
  } catch (e) {
    throw new CliError(`config file ${path}: ${(e as Error).message}`, EXIT.usage);
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CliError(
      `config file ${path} is invalid`,
      EXIT.usage,
      parsed.error.issues.map((i) => `${i.path.join('.') || (i.code === 'unrecognized_keys' ? i.keys.join(', ') : '(file)')}: ${i.message}`),
    );
  }
  return parsed.data;
}

/**
 * The broker URL and where the token comes from. Each setting is taken from the first of:
 * the flag, the environment, the config file. The token, in this order: `--token`,
 * `--token-file`, `JIT_TOKEN`, `JIT_TOKEN_FILE`, GitHub Actions' OIDC token
 * (`ACTIONS_ID_TOKEN_REQUEST_URL` and `_TOKEN`, audience `--audience`, `JIT_OIDC_AUDIENCE`,
 * the config's `audience` or `jit-broker`), GitLab CI's ID token variable (`JIT_OIDC_TOKEN_VAR`,
 * default `JIT_ID_TOKEN`), the config's `token`, then its `tokenFile`.
 */
export function resolveSettings(flags: ConnectionFlags, env: NodeJS.ProcessEnv, fetchImpl: typeof fetch = fetch): Settings {
  const file = readConfigFile(flags.config ?? configFilePath(env), Boolean(flags.config || env.JIT_CONFIG));
  const url = flags.url ?? env.JIT_URL ?? file.url;
  if (!url) throw new CliError('no broker URL: pass --url, set JIT_URL, or put `url:` in the config file', EXIT.usage);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`the broker URL ${JSON.stringify(url)} is not a URL`, EXIT.usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CliError(`the broker URL must be http(s), not ${parsed.protocol}`, EXIT.usage);
  return { url: url.replace(/\/+$/, ''), token: tokenSourceOf(flags, env, file, fetchImpl), credentialVariables: credentialVariables(env, file) };
}

/**
 * Every variable a token could come from: JIT_TOKEN, JIT_TOKEN_FILE (a path, but to the same
 * token), GitHub Actions' token request pair (it mints an OIDC token for any audience), the
 * GitLab ID-token variable (`JIT_OIDC_TOKEN_VAR`, the config's `oidcTokenVar`, and the default
 * JIT_ID_TOKEN), and GitLab's CI_JOB_JWT*.
 */
function credentialVariables(env: NodeJS.ProcessEnv, file: ConfigFile): string[] {
  const names = [
    'JIT_TOKEN',
    'JIT_TOKEN_FILE',
    'ACTIONS_ID_TOKEN_REQUEST_URL',
    'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
    DEFAULT_GITLAB_TOKEN_VAR,
    env.JIT_OIDC_TOKEN_VAR ?? file.oidcTokenVar ?? DEFAULT_GITLAB_TOKEN_VAR,
    ...Object.keys(env).filter((name) => GITLAB_JOB_JWT.test(name)),
  ];
  return [...new Set(names)];
}

/** `env` without `names`: what a child process the CLI starts for the user may see. */
export function withoutVariables(env: NodeJS.ProcessEnv, names: readonly string[]): NodeJS.ProcessEnv {
  const kept = { ...env };
  for (const name of names) delete kept[name];
  return kept;
}

function tokenSourceOf(flags: ConnectionFlags, env: NodeJS.ProcessEnv, file: ConfigFile, fetchImpl: typeof fetch): TokenSource {
  if (flags.token) return staticToken(flags.token, '--token');
  if (flags.tokenFile) return tokenFile(flags.tokenFile, '--token-file');
  if (env.JIT_TOKEN) return staticToken(env.JIT_TOKEN, 'JIT_TOKEN');
  if (env.JIT_TOKEN_FILE) return tokenFile(env.JIT_TOKEN_FILE, 'JIT_TOKEN_FILE');
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    const audience = flags.audience ?? env.JIT_OIDC_AUDIENCE ?? file.audience ?? DEFAULT_OIDC_AUDIENCE;
    return githubActionsToken(env.ACTIONS_ID_TOKEN_REQUEST_URL, env.ACTIONS_ID_TOKEN_REQUEST_TOKEN, audience, fetchImpl);
  }
  const gitlabVar = env.JIT_OIDC_TOKEN_VAR ?? file.oidcTokenVar ?? DEFAULT_GITLAB_TOKEN_VAR;
  if (env[gitlabVar]) return staticToken(env[gitlabVar], gitlabVar);
  if (env.JIT_OIDC_TOKEN_VAR) throw new CliError(`JIT_OIDC_TOKEN_VAR names ${gitlabVar}, which is not set (is it in the job's id_tokens?)`, EXIT.auth);
  if (file.token) return staticToken(file.token, 'the config file token');
  if (file.tokenFile) return tokenFile(file.tokenFile, 'the config file tokenFile');
  throw new CliError(
    'no token: pass --token or --token-file, set JIT_TOKEN or JIT_TOKEN_FILE, run in GitHub Actions with `id-token: write`, or in GitLab CI with an id_tokens variable',
    EXIT.auth,
  );
}
