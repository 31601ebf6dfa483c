import { IdpSimulator, IdpUser } from '@jit/sim-idp';

/** The console's client id, the `corp` issuer's audience in examples/sandbox.rules.yaml. */
export const SANDBOX_CONSOLE_CLIENT_ID = 'jit-console';
/** The port examples/sandbox.rules.yaml names for the `corp` issuer. */
export const SANDBOX_IDP_PORT = 8099;

/**
 * The simulated company's people: their groups are what the sandbox's rules match (as
 * `corp:<group>`), and what the `corp` issuer's groupRoles turn into roles (sre approves, audit audits).
 */
export const SANDBOX_IDP_USERS: IdpUser[] = [
  { username: 'alice', name: 'Alice Developer', email: 'alice@example.com', groups: ['developers'] },
  { username: 'bob', name: 'Bob SRE', email: 'bob@example.com', groups: ['sre'] },
  { username: 'carol', name: 'Carol SRE', email: 'carol@example.com', groups: ['sre'] },
  { username: 'dave', name: 'Dave Auditor', email: 'dave@example.com', groups: ['audit'] },
];

/** The company IdP of the sandbox on 127.0.0.1: people sign in to the console there. */
export function startSandboxIdp(port: number | undefined): Promise<IdpSimulator> {
  return IdpSimulator.start({
    users: SANDBOX_IDP_USERS,
    clients: [{ clientId: SANDBOX_CONSOLE_CLIENT_ID, redirectUris: [] }],
    host: '127.0.0.1',
    port: port ?? SANDBOX_IDP_PORT,
  });
}

/** The broker's callback under each name a person may use for it, once its port is known. */
export function registerConsoleCallbacks(idp: IdpSimulator, port: string, publicUrl: string | undefined): void {
  for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`, ...(publicUrl ? [publicUrl] : [])]) {
    idp.addRedirectUri(SANDBOX_CONSOLE_CLIENT_ID, `${origin}/console/auth/callback`);
  }
}
