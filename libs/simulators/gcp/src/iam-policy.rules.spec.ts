import { GoogleApiError } from './google-api.error';
import { MAX_LOGIC_OPERATORS, checkPolicy } from './iam-policy.rules';

const AT = 'timestamp("2030-01-01T00:00:00Z")';
/** A condition with `n` logic operators: n+1 comparisons joined by && and ||. */
const withOperators = (n: number) => Array.from({ length: n + 1 }, (_, i) => `request.time ${i % 2 ? '<' : '<='} ${AT}`).join(' && ');
const binding = (expression: string) => ({
  role: 'roles/storage.objectViewer',
  members: ['user:alice@example.com'],
  condition: { title: 'jit', expression },
});
const rejection = (expression: string): GoogleApiError | null => {
  try {
    checkPolicy('projects', 3, [binding(expression)], []);
    return null;
  } catch (e) {
    return e as GoogleApiError;
  }
};

describe('checkPolicy', () => {
  describe('logic operators in a condition', () => {
    it('should accept 12 logic operators, the IAM limit', () => {
      expect(MAX_LOGIC_OPERATORS).toBe(12);
      expect(rejection(withOperators(12))).toBeNull();
      expect(rejection(`!(${withOperators(10)}) || request.time > ${AT}`)).toBeNull();
    });

    it('should refuse a 13th, counting &&, || and ! alike, as INVALID_ARGUMENT', () => {
      for (const expression of [withOperators(13), `!(${withOperators(11)}) || request.time > ${AT}`]) {
        const err = rejection(expression);
        expect(err).toBeInstanceOf(GoogleApiError);
        expect(err!.message).toContain('13 logic operators');
        expect(err!.status).toBe('INVALID_ARGUMENT');
        expect(err!.httpStatus).toBe(400);
      }
    });
  });
});
