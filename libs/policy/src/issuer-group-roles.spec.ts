import { YamlFileError } from '@jit/config';
import { targetKinds } from '@jit/testing';
import { parseAccessPolicy } from './access-policy.loader';

const rules = (groupRoles: string) => `version: 1
issuers:
  - name: corp
    issuer: https://idp.example.com
    audience: jit-console
    groupsClaim: groups
    roles: [requester]
    groupRoles: ${groupRoles}
`;

function fieldsOf(text: string): string[] {
  try {
    parseAccessPolicy(text, 'rules.yaml', new Date(), targetKinds);
    return [];
  } catch (e) {
    if (e instanceof YamlFileError) return e.issues.map((i) => i.field);
    throw e;
  }
}

describe('issuers groupRoles in the rules file', () => {
  it('should take auditor and approver by group', () => {
    expect(fieldsOf(rules('{ auditor: [audit], approver: [sre] }'))).toEqual([]);
    const parsed = parseAccessPolicy(rules('{ auditor: [audit] }'), 'rules.yaml', new Date(), targetKinds);
    expect(parsed.file.issuers[0].groupRoles).toEqual({ auditor: ['audit'] });
  });

  it('should refuse admin by group, and an unknown role, naming the field', () => {
    expect(fieldsOf(rules('{ admin: [ops] }'))).toEqual(['issuers.0.groupRoles.admin']);
    expect(fieldsOf(rules('{ owner: [ops] }'))).toEqual(['issuers.0.groupRoles']);
    expect(fieldsOf(rules('{ auditor: [] }'))).toEqual(['issuers.0.groupRoles.auditor']);
  });
});
