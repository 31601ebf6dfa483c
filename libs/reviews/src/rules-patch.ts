import { basename } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { Node, YAMLMap, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { YamlFileError } from '@jit/config';
import { DomainError, ReviewItem, formatIsoDuration, parseIsoDurationSeconds } from '@jit/domain';
import { AccessPolicy, AccessRule, parseAccessPolicy } from '@jit/policy';

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
  const lines = (node: unknown): Edit => {
    const range = (node as Node | undefined)?.range;
    if (!range) throw new Error('a YAML node without a position');
    const start = policy.text.lastIndexOf('\n', range[0] - 1) + 1;
    const nl = policy.text.indexOf('\n', Math.max(range[1] - 1, range[0]));
    return { start, end: nl < 0 ? policy.text.length : nl + 1, text: '' };
  };
  // What the rules must be after the patch: the file as loaded, with only the decided changes.
  const intended = new Map<string, AccessRule | null>();
  const edits: Edit[] = [];
  for (const [ruleName, ruleItems] of byRule) {
    const index = rules.items.findIndex((n) => isMap(n) && n.get('name') === ruleName);
    const loaded = policy.file.rules.find((r) => r.name === ruleName);
    const rule = rules.items[index];
    if (index < 0 || !loaded || !isMap(rule)) {
      for (const i of ruleItems) skipped.push({ itemId: i.id, reason: `rule ${ruleName} is no longer in the rules file` });
      continue;
    }
    const ruleEdits: Edit[] = [];
    const ruleApplied: string[] = [];
    let target: AccessRule | null = loaded;
    const requesters = rule.get('requesters', true);
    const entries = isSeq(requesters) ? (requesters.toJSON() as unknown[]) : [];
    const removeEntries = new Set<number>();
    for (const item of ruleItems.filter((i) => i.decision === 'remove')) {
      const wanted = item.detail?.entry;
      const at = entries.findIndex((e, k) => !removeEntries.has(k) && sameJson(e, wanted));
      if (at < 0) skipped.push({ itemId: item.id, reason: `rule ${ruleName} no longer has this requester entry` });
      else {
        removeEntries.add(at);
        ruleApplied.push(item.id);
      }
    }
    const narrowing = ruleItems.filter((i) => i.decision === 'narrow');
    if (removeEntries.size && removeEntries.size === entries.length) {
      ruleEdits.push(lines(rule));
      target = null;
      for (const i of narrowing) skipped.push({ itemId: i.id, reason: `rule ${ruleName} is removed by another decision` });
    } else {
      if (isSeq(requesters)) for (const k of removeEntries) ruleEdits.push(lines(requesters.items[k]));
      target = { ...loaded, requesters: loaded.requesters.filter((_, k) => !removeEntries.has(k)) };
      // Narrowing: the shortest maximum asked for, and the targets every narrowing keeps.
      const narrowed = narrowing.length ? narrow(ruleName, rule, target, narrowing, lines, skipped) : null;
      if (narrowed) {
        ruleEdits.push(...narrowed.edits);
        target = narrowed.rule;
        ruleApplied.push(...narrowing.map((i) => i.id));
      }
    }
    if (!ruleEdits.length) continue;
    // The edits of this rule alone must give exactly the intended rules: lines shared with other
    // entries or targets (flow style on one line, say) would take more than was decided.
    const alone = new Map([[ruleName, target]]);
    const why = mismatch(policy, applyEdits(policy.text, ruleEdits), alone);
    if (why) {
      for (const id of ruleApplied) skipped.push({ itemId: id, reason: `rule ${ruleName} cannot be patched line by line (${why}): edit it by hand` });
      continue;
    }
    intended.set(ruleName, target);
    edits.push(...ruleEdits);
    applied.push(...ruleApplied);
  }
  const text = applyEdits(policy.text, edits);
  try {
    parseAccessPolicy(text, policy.source, policy.loadedAt, policy.kinds);
  } catch (e) {
    const issues = e instanceof YamlFileError ? e.issues.map((i) => ({ field: `rules-patch.${i.field || '(document)'}`, message: `line ${i.line}: ${i.message}` })) : [];
    throw new DomainError('invalid_state', `the patched rules file would not load: ${e instanceof Error ? e.message : String(e)}`, issues);
  }
  const why = mismatch(policy, text, intended);
  if (why) throw new DomainError('invalid_state', `the patched rules file would not be what was decided (${why})`, [{ field: 'rules-patch', message: why }]);
  const patch = text === policy.text ? '' : createTwoFilesPatch(`a/${file}`, `b/${file}`, policy.text, text, `rules version ${policy.version.slice(0, 12)}`, 'after review decisions');
  return { file, patch, text, applied, skipped, baseVersion: policy.version };
}

type Edit = { start: number; end: number; text: string };

function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** Why `text` is not the loaded file with the `intended` rules (null: a rule removed), or null when it is. */
function mismatch(policy: AccessPolicy, text: string, intended: ReadonlyMap<string, AccessRule | null>): string | null {
  let loaded: AccessPolicy;
  try {
    loaded = parseAccessPolicy(text, policy.source, policy.loadedAt, policy.kinds);
  } catch (e) {
    return `the result would not load: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}`;
  }
  const { rules: before, ...restBefore } = policy.file;
  const { rules: after, ...restAfter } = loaded.file;
  if (!sameJson(restBefore, restAfter)) return 'the edit changes more than the rules';
  const expected = before.flatMap((r) => {
    const t = intended.has(r.name) ? intended.get(r.name) : r;
    return t ? [t] : [];
  });
  for (let k = 0; k < Math.max(expected.length, after.length); k++) {
    if (!sameJson(expected[k], after[k])) return `rule ${expected[k]?.name ?? after[k]?.name} would differ from the decisions`;
  }
  return null;
}

/** The narrowing of one rule, or null (its items skipped) when it no longer fits the rule. */
function narrow(ruleName: string, rule: YAMLMap, loaded: AccessRule, narrowing: ReviewItem[], lines: (n: unknown) => Edit, skipped: { itemId: string; reason: string }[]): { edits: Edit[]; rule: AccessRule } | null {
  const skip = (reason: string) => {
    for (const i of narrowing) skipped.push({ itemId: i.id, reason });
    return null;
  };
  // A narrowing was decided on one requester entry: it changes the whole rule, so only a rule left with that one entry.
  if (loaded.requesters.length > 1) return skip(`rule ${ruleName} has ${loaded.requesters.length} requester entries: a narrowing of one would change the others' access`);
  // The targets by content: indexes into a reordered or edited list would keep the wrong ones.
  const now = loaded.targets.map((t) => describeTarget(t as Record<string, unknown>));
  if (narrowing.some((i) => !Array.isArray(i.detail?.targets) || !sameJson(i.detail.targets, now))) return skip(`rule ${ruleName}'s targets changed since the campaign started`);
  const edits: Edit[] = [];
  let result: AccessRule = loaded;
  const seconds = narrowing.map((i) => (i.narrowing?.maxDuration ? parseIsoDurationSeconds(i.narrowing.maxDuration) : undefined)).filter((s): s is number => s !== undefined);
  const maxNode = rule.get('maxDuration', true);
  if (seconds.length && isScalar(maxNode) && maxNode.range) {
    const shortest = Math.min(...seconds);
    if (shortest < loaded.maxDuration) {
      edits.push({ start: maxNode.range[0], end: maxNode.range[1], text: formatIsoDuration(shortest) });
      result = { ...result, maxDuration: shortest };
    }
  }
  let keep = new Set<number>(now.map((_, k) => k));
  for (const i of narrowing) if (i.narrowing?.keepTargets) keep = new Set(i.narrowing.keepTargets.filter((k) => keep.has(k)));
  if (keep.size === 0) return skip(`the narrowings of rule ${ruleName} together keep no target`);
  const targets = rule.get('targets', true);
  if (keep.size < now.length) {
    if (!isSeq(targets)) return skip(`rule ${ruleName}'s targets are not a list`);
    for (let k = 0; k < now.length; k++) if (!keep.has(k)) edits.push(lines(targets.items[k]));
    result = { ...result, targets: loaded.targets.filter((_, k) => keep.has(k)) };
  }
  return { edits, rule: result };
}

/** A target matcher in words: its kind and its fields (`aws.assume-role roleArns=arn:...`). */
export function describeTarget(t: Record<string, unknown>): string {
  const fields = Object.entries(t)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : JSON.stringify(v)}`);
  return [String(t.kind), ...fields].join(' ');
}
