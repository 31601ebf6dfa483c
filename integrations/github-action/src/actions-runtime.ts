import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { EOL } from 'node:os';

/**
 * The few GitHub Actions runtime conventions the action needs, written against GitHub's
 * documented formats (inputs as INPUT_<NAME>, the GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV
 * files, workflow commands on stdout) instead of @actions/core, which would bring its HTTP
 * client and more into the bundle for forty lines of file appends.
 */
export function input(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** A multiline input's non-empty lines. */
export function inputLines(name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return input(name, env)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** `name<<delimiter` form, so any value (a newline in it too) is written as it is. */
function appendKeyValue(fileVar: string, name: string, value: string): void {
  const file = process.env[fileVar];
  if (!file) throw new Error(`${fileVar} is not set: is this running as a GitHub Actions step?`);
  const delimiter = `ghadelimiter_${randomUUID()}`;
  appendFileSync(file, `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`, 'utf8');
}

export const setOutput = (name: string, value: string) => appendKeyValue('GITHUB_OUTPUT', name, value);
/** Read back by the post step as STATE_<name>. */
export const saveState = (name: string, value: string) => appendKeyValue('GITHUB_STATE', name, value);
export const getState = (name: string): string => (process.env[`STATE_${name}`] ?? '').trim();
/** For the job's later steps (not this one). */
export const exportVariable = (name: string, value: string) => appendKeyValue('GITHUB_ENV', name, value);

/** Escapes a workflow command's message (%, CR, LF), as the runner expects. */
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

/** The runner replaces the value with *** in every log line from now on; to be called before the value goes anywhere. */
export function mask(secret: string): void {
  if (secret) process.stdout.write(`::add-mask::${escapeData(secret)}${EOL}`);
}

export const info = (message: string) => process.stdout.write(`${message}${EOL}`);
export const warning = (message: string) => process.stdout.write(`::warning::${escapeData(message)}${EOL}`);
export const error = (message: string) => process.stdout.write(`::error::${escapeData(message)}${EOL}`);
