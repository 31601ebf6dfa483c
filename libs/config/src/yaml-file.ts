import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';

/** One problem in a YAML file, located at the line of the field it names. */
export interface YamlIssue {
  line: number;
  column: number;
  /** Dotted path such as `rules.2.maxDuration`; empty for the document itself. */
  field: string;
  message: string;
}

export class YamlFileError extends Error {
  constructor(
    readonly source: string,
    readonly issues: YamlIssue[],
  ) {
    super(`${source}: ` + issues.map((i) => `line ${i.line}, ${i.field || '(document)'}: ${i.message}`).join('; '));
  }
}

/**
 * Parses YAML and validates it with a zod schema in one step, so every error, syntax or
 * schema, names its line and field. Duplicate keys are errors: a rule written twice is a
 * mistake, never "last one wins".
 */
export function parseYamlWithSchema<S extends z.ZodType>(text: string, schema: S, source: string): z.output<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    throw new YamlFileError(
      source,
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { line: pos.line, column: pos.col, field: '', message: e.message.split('\n')[0] };
      }),
    );
  }
  const parsed = schema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? {});
  if (parsed.success) return parsed.data;
  throw new YamlFileError(
    source,
    parsed.error.issues.map((issue) => {
      const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
      // The node itself, or for a missing key the nearest ancestor that exists.
      let offset = 0;
      for (let n = path.length; n >= 0; n--) {
        const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
        if (isNode(node) && node.range) {
          offset = node.range[0];
          break;
        }
      }
      const pos = lines.linePos(offset);
      return { line: pos.line, column: pos.col, field: path.join('.'), message: issue.message };
    }),
  );
}
