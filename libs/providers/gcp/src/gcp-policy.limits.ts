/** Principals per allow policy, every occurrence counted (cloud-apis.md C2). */
export const MAX_PRINCIPALS = 1500;
/** Google groups and domains among them (cloud-apis.md C2). */
export const MAX_GROUPS_AND_DOMAINS = 250;
/** Bindings sharing one role and one principal with different conditions (IAM quotas page, Limits; jit-access purges for it too). */
export const MAX_BINDINGS_PER_ROLE_AND_MEMBER = 20;
export const PUBLIC_MEMBERS: readonly string[] = ['allUsers', 'allAuthenticatedUsers'];
