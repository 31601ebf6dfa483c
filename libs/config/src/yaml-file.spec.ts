import { z } from 'zod';
import { YamlFileError, parseYamlWithSchema } from './yaml-file';

const schema = z.strictObject({
  rules: z.array(z.strictObject({ name: z.string(), maxDuration: z.string().regex(/^P/) })),
});

function issues(text: string) {
  try {
    parseYamlWithSchema(text, schema, 'rules.yaml');
  } catch (e) {
    if (e instanceof YamlFileError) return e.issues;
    throw e;
  }
  throw new Error('expected an error');
}

describe(parseYamlWithSchema.name, () => {
  it('should return the validated document', () => {
    expect(parseYamlWithSchema('rules:\n  - name: a\n    maxDuration: PT1H\n', schema, 'x')).toEqual({
      rules: [{ name: 'a', maxDuration: 'PT1H' }],
    });
  });

  it('should name the line and field of a schema error', () => {
    expect(issues('rules:\n  - name: a\n    maxDuration: PT1H\n  - name: b\n    maxDuration: 1h\n')).toEqual([
      expect.objectContaining({ line: 5, field: 'rules.1.maxDuration' }),
    ]);
  });

  it('should point a missing key at its parent mapping', () => {
    expect(issues('rules:\n  - name: a\n  - name: b\n    maxDuration: PT1H\n')).toEqual([
      expect.objectContaining({ line: 2, field: 'rules.0.maxDuration' }),
    ]);
  });

  it('should report a syntax error with its line', () => {
    expect(issues('rules:\n  - name: a\n   maxDuration: [\n')[0].line).toBeGreaterThanOrEqual(2);
  });

  it('should reject a key written twice', () => {
    expect(issues('rules:\n  - name: a\n    name: b\n    maxDuration: PT1H\n')[0]).toMatchObject({ line: 3 });
  });
});
