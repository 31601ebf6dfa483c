import { JsonSimError, ValidationStyle, Violation, encodePageToken, epochSeconds, page } from './json-protocol.codec';
import { OrgAccount, OrgUnit, OrganizationStore, orgError } from './organization.store';
import { JsonCall, JsonHandler } from './sso-admin.handler';

/** Organizations' page size when `MaxResults` is absent (the model's maximum is 20). */
const DEFAULT_PAGE = 20;

const REASON: Record<Violation['kind'], [string, string]> = {
  required: ['INPUT_REQUIRED', 'You must provide a value for all required parameters.'],
  'min-length': ['MIN_LENGTH_EXCEEDED', 'You provided a string parameter that is shorter than allowed.'],
  'max-length': ['MAX_LENGTH_EXCEEDED', 'You provided a string parameter that is longer than allowed.'],
  pattern: ['INVALID_PATTERN', 'You provided a value that does not match the required pattern.'],
  enum: ['INVALID_ENUM', 'You specified an invalid value.'],
  'min-value': ['MIN_VALUE_EXCEEDED', 'You provided a numeric parameter that has a smaller value than allowed.'],
  'max-value': ['MAX_VALUE_EXCEEDED', 'You provided a numeric parameter that has a larger value than allowed.'],
  union: ['INPUT_REQUIRED', 'You must provide a value for all required parameters.'],
};

/**
 * Organizations does not answer Coral's `ValidationException`: it refuses a bad member with
 * `InvalidInputException` and a `Reason` (`INVALID_PATTERN`, `MAX_VALUE_EXCEEDED`...) for the first
 * problem found, with the fixed message the API reference gives for that reason.
 */
export const organizationsValidation: ValidationStyle = {
  reject: (violations) => {
    const [reason, message] = REASON[violations[0].kind];
    return new JsonSimError('InvalidInputException', message, { Reason: reason });
  },
};

const invalidToken = () => new JsonSimError('InvalidInputException', 'The token is not valid.', { Reason: 'INVALID_NEXT_TOKEN' });

/** The Organizations read operations, `AWSOrganizationsV20161128.*`, for the management account or a delegated administrator. */
export function organizationsHandlers(org: OrganizationStore): Record<string, JsonHandler> {
  const accountBody = (a: OrgAccount) => ({
    Id: a.id,
    Arn: org.accountArn(a.id),
    Email: a.email,
    Name: a.name,
    Status: a.status,
    JoinedMethod: a.joinedMethod,
    JoinedTimestamp: epochSeconds(a.joinedAt),
  });
  const unitBody = (u: OrgUnit) => ({ Id: u.id, Arn: org.ouArn(u.id), Name: u.name });
  const authorize = (call: JsonCall) => {
    if (!org.account(call.accountId)) throw orgError.notInUse();
    if (call.accountId !== org.managementAccountId && !org.delegatedAdministrators.has(call.accountId)) throw orgError.accessDenied();
  };
  const parent = (id: string) => {
    if (!org.isParent(id)) throw orgError.parentNotFound();
    return id;
  };

  return {
    DescribeOrganization: (_input, call) => {
      // Any account of the organization may describe it.
      if (!org.account(call.accountId)) throw orgError.notInUse();
      return {
        Organization: {
          Id: org.id,
          Arn: org.arn,
          FeatureSet: 'ALL',
          MasterAccountArn: org.accountArn(org.managementAccountId),
          MasterAccountId: org.managementAccountId,
          MasterAccountEmail: org.managementEmail,
          AvailablePolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }],
        },
      };
    },

    DescribeAccount: (input, call) => {
      authorize(call);
      const a = org.account(input.AccountId);
      if (!a) throw orgError.accountNotFound();
      return { Account: accountBody(a) };
    },

    DescribeOrganizationalUnit: (input, call) => {
      authorize(call);
      const u = org.unit(input.OrganizationalUnitId);
      if (!u) throw orgError.ouNotFound();
      return { OrganizationalUnit: unitBody(u) };
    },

    ListAccounts: (input, call) => {
      authorize(call);
      const { items, nextToken } = page(org.allAccounts(), input, 'ListAccounts', '', DEFAULT_PAGE, invalidToken);
      return { Accounts: items.map(accountBody), NextToken: nextToken };
    },

    ListRoots: (input, call) => {
      authorize(call);
      const root = { Id: org.rootId, Arn: org.rootArn(), Name: 'Root', PolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }] };
      const { items, nextToken } = page([root], input, 'ListRoots', '', DEFAULT_PAGE, invalidToken);
      return { Roots: items, NextToken: nextToken };
    },

    ListOrganizationalUnitsForParent: (input, call) => {
      authorize(call);
      const id = parent(input.ParentId);
      const { items, nextToken } = page(org.unitsIn(id), input, 'ListOrganizationalUnitsForParent', id, DEFAULT_PAGE, invalidToken);
      return { OrganizationalUnits: items.map(unitBody), NextToken: nextToken };
    },

    ListAccountsForParent: (input, call) => {
      authorize(call);
      const id = parent(input.ParentId);
      const { items, nextToken } = page(org.accountsIn(id), input, 'ListAccountsForParent', id, DEFAULT_PAGE, invalidToken);
      return { Accounts: items.map(accountBody), NextToken: nextToken };
    },

    ListChildren: (input, call) => {
      authorize(call);
      const id = parent(input.ParentId);
      const children =
        input.ChildType === 'ACCOUNT'
          ? org.accountsIn(id).map((a) => ({ Id: a.id, Type: 'ACCOUNT' }))
          : org.unitsIn(id).map((u) => ({ Id: u.id, Type: 'ORGANIZATIONAL_UNIT' }));
      const { items, nextToken } = page(children, input, 'ListChildren', `${id} ${input.ChildType}`, DEFAULT_PAGE, invalidToken);
      return { Children: items, NextToken: nextToken };
    },

    ListParents: (input, call) => {
      authorize(call);
      const childId: string = input.ChildId;
      const parentId = childId.startsWith('ou-') ? org.unit(childId)?.parentId : org.account(childId)?.parentId;
      if (!parentId) throw orgError.childNotFound();
      const parents = [{ Id: parentId, Type: parentId.startsWith('r-') ? 'ROOT' : 'ORGANIZATIONAL_UNIT' }];
      // The seeding knob: an empty first page that only points on (AWS allows a page with no items and a NextToken).
      if (input.NextToken === undefined && org.emptyFirstPages.has('ListParents')) return { Parents: [], NextToken: encodePageToken('ListParents', childId, 0) };
      const { items, nextToken } = page(parents, input, 'ListParents', childId, DEFAULT_PAGE, invalidToken);
      return { Parents: items, NextToken: nextToken };
    },
  };
}
