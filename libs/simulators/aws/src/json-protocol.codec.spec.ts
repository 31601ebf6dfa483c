import { JsonServiceModel } from './json-model.types';
import { JSON_MODELS } from './json-models.generated';
import { JsonSimError, decodePageToken, encodePageToken, modelPattern, page, validateShape, validationMessage } from './json-protocol.codec';

describe(modelPattern.name, () => {
  it('should match the whole value, as AWS applies the models\' patterns', () => {
    const digits = modelPattern('\\d{12}');
    expect(digits.test('123456789012')).toBe(true);
    expect(digits.test('x123456789012')).toBe(false);
    // An alternation whose anchors bind to one branch only still matches whole values.
    const parent = modelPattern('^(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$');
    expect(parent.test('r-abcd')).toBe(true);
    expect(parent.test('r-abcd/extra')).toBe(false);
  });

  it('should translate Java-only syntax: (?i) groups, escaped spaces and quotes in Unicode mode, \\p classes', () => {
    const issuer = modelPattern('(?!(?i)(arn|aws):)[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+');
    expect(issuer.test('https://idp.example')).toBe(true);
    expect(issuer.test('ARN:x')).toBe(false);
    expect(issuer.test('Aws:x')).toBe(false);
    const relay = modelPattern(JSON_MODELS['sso-admin'].shapes.RelayState.pattern!);
    expect(relay.test('https://console.aws.amazon.com/s3/home?region=us-east-1 (x)')).toBe(true);
    expect(relay.test('tab\there')).toBe(false);
  });
});

describe(validateShape.name, () => {
  const sso: JsonServiceModel = JSON_MODELS['sso-admin'];
  const ids: JsonServiceModel = JSON_MODELS.identitystore;
  const instance = 'arn:aws:sso:::instance/ssoins-0123456789abcdef';

  it('should report a missing required member as null, with the service\'s lower-camel path', () => {
    const v = validateShape(sso, 'DescribePermissionSetRequest', { InstanceArn: instance });
    expect(v).toEqual([{ path: 'permissionSetArn', value: null, constraint: 'Member must not be null', kind: 'required' }]);
    expect(validationMessage(v)).toBe("1 validation error detected: Value null at 'permissionSetArn' failed to satisfy constraint: Member must not be null");
  });

  it('should report one violation per member (length before pattern), with list paths numbered from 1', () => {
    const v = validateShape(sso, 'CreatePermissionSetRequest', { InstanceArn: instance, Name: '', Tags: [{ Key: 'ok', Value: 'v' }, { Key: 'bad!', Value: 'v' }] });
    expect(v.map((x) => [x.path, x.kind])).toEqual([['name', 'min-length'], ['tags.2.member.key', 'pattern']]);
  });

  it('should withhold sensitive and long values from the message', () => {
    const [sensitive] = validateShape(ids, 'ListUsersRequest', { IdentityStoreId: 'd-0123456789', Filters: [{ AttributePath: 'UserName', AttributeValue: '' }] });
    expect(sensitive).toMatchObject({ path: 'filters.1.member.attributeValue', value: undefined });
    expect(validationMessage([sensitive])).toContain("Value at 'filters.1.member.attributeValue'");
  });

  it('should require exactly one member of a union and accept any JSON in a document', () => {
    const none = validateShape(ids, 'GetUserIdRequest', { IdentityStoreId: 'd-0123456789', AlternateIdentifier: {} });
    expect(none.map((x) => x.kind)).toEqual(['union']);
    const doc = validateShape(ids, 'GetUserIdRequest', { IdentityStoreId: 'd-0123456789', AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: { any: ['json'] } } } });
    expect(doc).toEqual([]);
  });

  it('should check integer ranges and enums, and throw SerializationException for the wrong JSON type', () => {
    expect(validateShape(sso, 'ListInstancesRequest', { MaxResults: 101 }).map((x) => x.kind)).toEqual(['max-value']);
    expect(validateShape(sso, 'ProvisionPermissionSetRequest', { InstanceArn: instance, PermissionSetArn: `arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef`, TargetType: 'EVERYWHERE' })[0].constraint).toBe(
      'Member must satisfy enum value set: [AWS_ACCOUNT, ALL_PROVISIONED_ACCOUNTS]',
    );
    expect(() => validateShape(sso, 'ListInstancesRequest', { MaxResults: '10' })).toThrow(JsonSimError);
    expect(() => validateShape(sso, 'ListInstancesRequest', [])).toThrow("Unexpected value at 'ListInstancesRequest': expected an object");
  });
});

describe('page tokens', () => {
  const invalid = () => new JsonSimError('ValidationException', 'bad token');

  it('should walk a list in pages and refuse a token from another operation or other filters', () => {
    const items = Array.from({ length: 5 }, (_, i) => i);
    const first = page(items, { MaxResults: 2 }, 'ListX', 'a', 100, invalid);
    expect(first.items).toEqual([0, 1]);
    const second = page(items, { MaxResults: 2, NextToken: first.nextToken }, 'ListX', 'a', 100, invalid);
    const third = page(items, { MaxResults: 2, NextToken: second.nextToken }, 'ListX', 'a', 100, invalid);
    expect([second.items, third.items, third.nextToken]).toEqual([[2, 3], [4], undefined]);
    expect(() => page(items, { NextToken: first.nextToken }, 'ListY', 'a', 100, invalid)).toThrow('bad token');
    expect(() => page(items, { NextToken: first.nextToken }, 'ListX', 'b', 100, invalid)).toThrow('bad token');
    expect(() => page(items, { NextToken: '!!' }, 'ListX', 'a', 100, invalid)).toThrow('bad token');
    expect(decodePageToken(encodePageToken('ListX', 'a', 7), 'ListX', 'a')).toBe(7);
    expect(encodePageToken('ListX', 'a', 7)).toMatch(/^[-a-zA-Z0-9+=/_]*$/);
  });
});
