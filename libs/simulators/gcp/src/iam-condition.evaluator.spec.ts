import { ConditionSyntaxError, evaluateCondition, parseCondition } from './iam-condition.evaluator';

const at = (iso: string) => new Date(iso);

describe('parseCondition / evaluateCondition', () => {
  it('should end a `request.time <` condition exactly at its timestamp', () => {
    const c = parseCondition('request.time < timestamp("2030-01-01T00:00:00Z")');
    expect(evaluateCondition(c, at('2029-12-31T23:59:59.999Z'))).toBe(true);
    expect(evaluateCondition(c, at('2030-01-01T00:00:00Z'))).toBe(false);
  });

  it('should evaluate jit-access style windows with >=, && and single quotes', () => {
    const c = parseCondition("(request.time >= timestamp('2030-01-01T00:00:00Z') && request.time < timestamp('2030-01-01T01:00:00+00:00'))");
    expect(evaluateCondition(c, at('2029-12-31T23:00:00Z'))).toBe(false);
    expect(evaluateCondition(c, at('2030-01-01T00:30:00Z'))).toBe(true);
    expect(evaluateCondition(c, at('2030-01-01T01:00:00Z'))).toBe(false);
  });

  it('should honour ||, ! and precedence', () => {
    const c = parseCondition('!(request.time < timestamp("2030-01-01T00:00:00Z")) || false && true');
    expect(evaluateCondition(c, at('2029-01-01T00:00:00Z'))).toBe(false);
    expect(evaluateCondition(c, at('2031-01-01T00:00:00Z'))).toBe(true);
  });

  it.each([
    'request.time < timestamp("2030-01-01")',
    'resource.name.startsWith("projects/x")',
    'request.time <',
    '',
    'request.time < timestamp("2030-01-01T00:00:00Z") &&',
  ])('should reject %j rather than guess', (expression) => {
    expect(() => parseCondition(expression)).toThrow(ConditionSyntaxError);
  });
});
