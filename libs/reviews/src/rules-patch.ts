import { basename } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { Node, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { YamlFileError } from '@jit/config';
import { DomainError, ReviewItem, formatIsoDuration, parseIsoDurationSeconds } from '@jit/domain';
import { AccessPolicy, parseAccessPolicy } from '@jit/policy';

export interface RulesPatch {
  /** The rules file's name in the patch (`a/<name>`, `b/<name>`). */
  file: string;
  /** The unified diff, empty when nothing is to change. */
  patch: string;
  /** The patched file, checked by the rules loader. */
  text: string;
  /** Items the patch carries, and those it could not (their rule or entry is no longer in the file). */
  applied: string[];
  skipped: { itemId: string; reason: string }[];
  /** The rules version the patch applies to. */
  baseVersion: string;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)]));
  return v;
}

/**
 * The change to the rules file that eligibility decisions call for, as a unified diff against the
 * rules in force: a removed requester entry is deleted (the whole rule once it has none left), a
 * narrowed rule gets the shorter `maxDuration` and loses the targets not kept. Comments and the
 * rest of the file stay as written (the YAML document is edited, not re-serialised from data).
 * The result is loaded by the same loader as the broker's before it is offered, so a patch the
 * rules checker refuses is never handed out (a 409 naming the problem instead).
 */
export function buildRulesPatch(policy: AccessPolicy, items: readonly ReviewItem[]): RulesPatch {
  const doc = parseDocument(policy.text);
  const rules = doc.get('rules', true);
  const applied: string[] = [];
  const skipped: { itemId: string; reason: string }[] = [];
  const file = basename(policy.source) || 'rules.yaml';
  const decided = items.filter((i) => i.source === 'eligibility' && (i.decision === 'remove' || i.decision === 'narrow'));
  if (!isSeq(rules)) {
    for (const i of decided) skipped.push({ itemId: i.id, reason: 'the rules file has no rules' });
    return { file, patch: '', text: policy.text, applied, skipped, baseVersion: policy.version };
  }
  // Per rule: requester entries to delete, and the narrowing, applied from the last index down.
  const byRule = new Map<string, ReviewItem[]>();
  for (const item of decided) byRule.set(item.rule ?? '', [...(byRule.get(item.rule ?? '') ?? []), item]);
  // Edits of the original text (start, end, replacement): only the lines that change move, so the
  // diff is what a person would have written, and comments and layout stay as they are.
  const edits: { start: number; end: number; text: string }[] = [];
  const lines = (node: unknown) => {
    const range = (node as Node | undefined)?.range;
    if (!range) throw new Error('a YAML node without a position');
    const start = policy.text.lastIndexOf('\n', range[0] - 1) + 1;
    const nl = policy.text.indexOf('\n', Math.max(range[1] - 1, range[0]));
    return { start, end: nl < 0 ? policy.text.length : nl + 1, text: '' };
  };
  for (const [ruleName, ruleItems] of byRule) {
    const index = rules.items.findIndex((n) => isMap(n) && n.get('name') === ruleName);
    if (index < 0) {
      for (const i of ruleItems) skipped.push({ itemId: i.id, reason: `rule ${ruleName} is no longer in the rules file` });
      continue;
    }
    const rule = rules.items[index];
    if (!isMap(rule)) continue;
    const requesters = rule.get('requesters', true);
    const entries = isSeq(requesters) ? (requesters.toJSON() as unknown[]) : [];
    const removeEntries = new Set<number>();
    for (const item of ruleItems.filter((i) => i.decision === 'remove')) {
      const wanted = item.detail?.entry;
      const at = entries.findIndex((e, k) => !removeEntries.has(k) && sameJson(e, wanted));
      if (at < 0) skipped.push({ itemId: item.id, reason: `rule ${ruleName} no longer has this requester entry` });
      else {
        removeEntries.add(at);
        applied.push(item.id);
      }
    }
    if (removeEntries.size && removeEntries.size === entries.length) {
      edits.push(lines(rule));
      for (const i of ruleItems.filter((x) => x.decision === 'narrow')) skipped.push({ itemId: i.id, reason: `rule ${ruleName} is removed by another decision` });
      continue;
    }
    if (isSeq(requesters)) for (const k of removeEntries) edits.push(lines(requesters.items[k]));
    // Narrowing: the shortest maximum asked for, and the targets every narrowing keeps.
    const narrowing = ruleItems.filter((i) => i.decision === 'narrow');
    if (narrowing.length) {
      const targets = rule.get('targets', true);
      const targetCount = isSeq(targets) ? targets.items.length : 0;
      const expected = item0Targets(narrowing[0]);
      if (expected !== null && expected !== targetCount) {
        for (const i of narrowing) skipped.push({ itemId: i.id, reason: `rule ${ruleName}'s targets changed since the campaign started` });
        continue;
      }
      const seconds = narrowing.map((i) => (i.narrowing?.maxDuration ? parseIsoDurationSeconds(i.narrowing.maxDuration) : undefined)).filter((s): s is number => s !== undefined);
      const maxNode = rule.get('maxDuration', true);
      const current = parseIsoDurationSeconds(String(rule.get('maxDuration')));
      if (seconds.length && isScalar(maxNode) && maxNode.range) {
        const shortest = Math.min(...seconds);
        if (current === undefined || shortest < current) edits.push({ start: maxNode.range[0], end: maxNode.range[1], text: formatIsoDuration(shortest) });
      }
      let keep = new Set<number>(Array.from({ length: targetCount }, (_, k) => k));
      for (const i of narrowing) if (i.narrowing?.keepTargets) keep = new Set(i.narrowing.keepTargets.filter((k) => keep.has(k)));
      if (keep.size === 0) {
        for (const i of narrowing) skipped.push({ itemId: i.id, reason: `the narrowings of rule ${ruleName} together keep no target` });
        continue;
      }
      if (isSeq(targets)) for (let k = 0; k < targetCount; k++) if (!keep.has(k)) edits.push(lines(targets.items[k]));
      applied.push(...narrowing.map((i) => i.id));
    }
  }
  let text = policy.text;
  for (const e of edits.sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  try {
    parseAccessPolicy(text, policy.source, policy.loadedAt, policy.kinds);
  } catch (e) {
    const issues = e instanceof YamlFileError ? e.issues.map((i) => ({ field: `rules-patch.${i.field || '(document)'}`, message: `line ${i.line}: ${i.message}` })) : [];
    throw new DomainError('invalid_state', `the patched rules file would not load: ${e instanceof Error ? e.message : String(e)}`, issues);
  }
  const patch = text === policy.text ? '' : createTwoFilesPatch(`a/${file}`, `b/${file}`, policy.text, text, `rules version ${policy.version.slice(0, 12)}`, 'after review decisions');
  return { file, patch, text, applied, skipped, baseVersion: policy.version };
}

function item0Targets(item: ReviewItem | undefined): number | null {
  const t = item?.detail?.targets;
  return Array.isArray(t) ? t.length : null;
}
