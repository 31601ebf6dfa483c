import { DomainError, FieldIssue } from '@jit/domain';

/** The settings behind each configured bound, named in the answer so an operator knows what to change. */
const SETTINGS: Record<NonNullable<FieldIssue['bound']>, string> = {
  duration: 'JIT_MIN_DURATION, JIT_MAX_DURATION',
};

/** A domain error's detail and field issues as the API words them: a bound names its settings. */
export function wordedIssues(error: DomainError): { detail: string; issues: FieldIssue[] } {
  let detail = error.message;
  const issues = error.issues.map(({ bound, ...issue }): FieldIssue => {
    if (!bound) return issue;
    const message = `${issue.message} (${SETTINGS[bound]})`;
    detail = detail.replace(`${issue.field}: ${issue.message}`, `${issue.field}: ${message}`);
    return { ...issue, message };
  });
  return { detail, issues };
}
