/**
 * The subset of CEL that time-bound bindings use: `request.time` compared with
 * `timestamp("RFC 3339")`, combined with `&&`, `||`, `!` and parentheses. GCP accepts far more
 * CEL than this; the simulator rejects what it cannot evaluate rather than guess, so a test can
 * never pass on an expression nobody checked.
 */
export type Condition =
  | { op: 'and' | 'or'; left: Condition; right: Condition }
  | { op: 'not'; operand: Condition }
  | { op: 'const'; value: boolean }
  | { op: 'cmp'; cmp: Comparator; left: Operand; right: Operand };

type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';
type Operand = { kind: 'now' } | { kind: 'time'; ms: number };

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const TOKEN = /\s*(request\.time|timestamp\s*\(\s*(?:"[^"]*"|'[^']*')\s*\)|&&|\|\||<=|>=|==|!=|<|>|!|\(|\)|true|false)/y;

export class ConditionSyntaxError extends Error {}

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length) {
    if (/^\s*$/.test(expression.slice(TOKEN.lastIndex))) break;
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(expression);
    if (!match) throw new ConditionSyntaxError(`unsupported token at offset ${start}: ${expression.slice(start, start + 20)}`);
    tokens.push(match[1]);
  }
  return tokens;
}

function parseTimestamp(token: string): Operand {
  const literal = /\(\s*["'](.*)["']\s*\)/.exec(token)![1];
  const ms = Date.parse(literal);
  if (!RFC3339.test(literal) || Number.isNaN(ms)) throw new ConditionSyntaxError(`timestamp("${literal}") is not RFC 3339`);
  return { kind: 'time', ms };
}

export function parseCondition(expression: string): Condition {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const take = () => tokens[i++];

  const operand = (): Operand => {
    const t = take();
    if (t === 'request.time') return { kind: 'now' };
    if (t?.startsWith('timestamp')) return parseTimestamp(t);
    throw new ConditionSyntaxError(`expected request.time or timestamp(), got ${t ?? 'end of expression'}`);
  };
  const primary = (): Condition => {
    const t = peek();
    if (t === '(') {
      take();
      const inner = or();
      if (take() !== ')') throw new ConditionSyntaxError('missing )');
      return inner;
    }
    if (t === 'true' || t === 'false') return take(), { op: 'const', value: t === 'true' };
    const left = operand();
    const cmp = take();
    if (!['<', '<=', '>', '>=', '==', '!='].includes(cmp)) throw new ConditionSyntaxError(`expected a comparison, got ${cmp ?? 'end'}`);
    return { op: 'cmp', cmp: cmp as Comparator, left, right: operand() };
  };
  const unary = (): Condition => (peek() === '!' ? (take(), { op: 'not', operand: unary() }) : primary());
  const and = (): Condition => {
    let left = unary();
    while (peek() === '&&') left = (take(), { op: 'and', left, right: unary() });
    return left;
  };
  const or = (): Condition => {
    let left = and();
    while (peek() === '||') left = (take(), { op: 'or', left, right: and() });
    return left;
  };

  if (tokens.length === 0) throw new ConditionSyntaxError('empty expression');
  const tree = or();
  if (i !== tokens.length) throw new ConditionSyntaxError(`unexpected ${tokens[i]}`);
  return tree;
}

export function evaluateCondition(condition: Condition, at: Date): boolean {
  switch (condition.op) {
    case 'const':
      return condition.value;
    case 'not':
      return !evaluateCondition(condition.operand, at);
    case 'and':
      return evaluateCondition(condition.left, at) && evaluateCondition(condition.right, at);
    case 'or':
      return evaluateCondition(condition.left, at) || evaluateCondition(condition.right, at);
    case 'cmp': {
      const value = (o: Operand) => (o.kind === 'now' ? at.getTime() : o.ms);
      const [l, r] = [value(condition.left), value(condition.right)];
      switch (condition.cmp) {
        case '<': return l < r;
        case '<=': return l <= r;
        case '>': return l > r;
        case '>=': return l >= r;
        case '==': return l === r;
        case '!=': return l !== r;
      }
    }
  }
}
