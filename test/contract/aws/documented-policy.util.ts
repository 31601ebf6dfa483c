import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The JSON blocks of docs/providers/aws.md under the heading `title` (up to the next heading
 * of the same or a higher level), parsed: what an operator would copy.
 */
export function documentedPolicies(title: string): unknown[] {
  const text = readFileSync(resolve(__dirname, '../../../docs/providers/aws.md'), 'utf8');
  const start = text.split('\n').findIndex((line) => /^#{2,4} /.test(line) && line.replace(/^#+ /, '') === title);
  if (start < 0) throw new Error(`docs/providers/aws.md has no section "${title}"`);
  const level = /^#+/.exec(text.split('\n')[start])![0].length;
  const lines = text.split('\n').slice(start + 1);
  const end = lines.findIndex((line) => new RegExp(`^#{1,${level}} `).test(line));
  const section = (end < 0 ? lines : lines.slice(0, end)).join('\n');
  return [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]));
}
