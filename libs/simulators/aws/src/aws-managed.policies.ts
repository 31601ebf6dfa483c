/**
 * AWS managed policies the simulator seeds in every account (`arn:aws:iam::aws:policy/...`), with
 * their real action patterns. AdministratorAccess, PowerUserAccess and IAMFullAccess are the
 * documents AWS publishes (AWS Managed Policy Reference Guide); ReadOnlyAccess is a faithful
 * excerpt: the real one lists several hundred `<service>:Describe*`/`Get*`/`List*` patterns, of
 * which these are the first services'. Version ids are the published default versions at the time
 * of writing; they only need to be stable here.
 */
export interface AwsManagedPolicySeed {
  name: string;
  path: string;
  versionId: string;
  description: string;
  document: object;
}

const ALL = '*';

export const AWS_MANAGED_POLICIES: readonly AwsManagedPolicySeed[] = [
  {
    name: 'AdministratorAccess',
    path: '/',
    versionId: 'v1',
    description: 'Provides full access to AWS services and resources.',
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ALL, Resource: ALL }] },
  },
  {
    name: 'PowerUserAccess',
    path: '/',
    versionId: 'v5',
    description: 'Provides full access to AWS services and resources, but does not allow management of Users and groups.',
    document: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: ALL },
        {
          Effect: 'Allow',
          Action: [
            'account:GetAccountInformation', 'account:GetPrimaryEmail', 'account:ListRegions', 'iam:CreateServiceLinkedRole',
            'iam:DeleteServiceLinkedRole', 'iam:ListRoles', 'organizations:DescribeOrganization',
          ],
          Resource: ALL,
        },
      ],
    },
  },
  {
    name: 'IAMFullAccess',
    path: '/',
    versionId: 'v2',
    description: 'Provides full access to IAM via the AWS Management Console.',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'iam:*', 'organizations:DescribeAccount', 'organizations:DescribeOrganization', 'organizations:DescribeOrganizationalUnit',
            'organizations:DescribePolicy', 'organizations:ListChildren', 'organizations:ListParents', 'organizations:ListPoliciesForTarget',
            'organizations:ListRoots', 'organizations:ListPolicies', 'organizations:ListTargetsForPolicy',
          ],
          Resource: ALL,
        },
      ],
    },
  },
  {
    name: 'ReadOnlyAccess',
    path: '/',
    versionId: 'v120',
    description: 'Provides read-only access to AWS services and resources.',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadOnlyActions',
          Effect: 'Allow',
          Action: [
            'cloudtrail:Describe*', 'cloudtrail:Get*', 'cloudtrail:List*', 'cloudtrail:LookupEvents', 'cloudwatch:Describe*', 'cloudwatch:Get*',
            'cloudwatch:List*', 'dynamodb:BatchGet*', 'dynamodb:Describe*', 'dynamodb:Get*', 'dynamodb:List*', 'dynamodb:Query', 'dynamodb:Scan',
            'ec2:Describe*', 'ec2:Get*', 'iam:Generate*', 'iam:Get*', 'iam:List*', 'iam:Simulate*', 'kms:Describe*', 'kms:Get*', 'kms:List*',
            'lambda:Get*', 'lambda:List*', 'logs:Describe*', 'logs:Get*', 'logs:FilterLogEvents', 'logs:StartQuery', 'logs:StopQuery',
            'logs:TestMetricFilter', 'rds:Describe*', 'rds:List*', 's3:Describe*', 's3:Get*', 's3:List*', 'sns:Get*', 'sns:List*',
            'sqs:Get*', 'sqs:List*', 'sqs:Receive*', 'sts:GetAccessKeyInfo', 'sts:GetCallerIdentity', 'sts:GetSessionToken',
          ],
          Resource: ALL,
        },
      ],
    },
  },
];

/**
 * The services the simulator's access advisor knows (namespace and name as
 * `GetServiceLastAccessedDetails` reports them). The real list has several hundred; a policy
 * granting `*` is reported against these.
 */
export const SERVICES: Readonly<Record<string, string>> = {
  account: 'AWS Account Management',
  cloudtrail: 'AWS CloudTrail',
  cloudwatch: 'Amazon CloudWatch',
  dynamodb: 'Amazon DynamoDB',
  ec2: 'Amazon EC2',
  iam: 'AWS Identity and Access Management',
  kms: 'AWS Key Management Service',
  lambda: 'AWS Lambda',
  logs: 'Amazon CloudWatch Logs',
  organizations: 'AWS Organizations',
  rds: 'Amazon RDS',
  s3: 'Amazon S3',
  sns: 'Amazon SNS',
  sqs: 'Amazon SQS',
  sts: 'AWS Security Token Service',
};
