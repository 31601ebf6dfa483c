import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFilePath, resolveSettings, withoutVariables } from './settings';

/** A config file in a fresh folder, and an environment that points at it. */
function withConfig(text: string): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'jit-config-'));
  writeFileSync(join(dir, 'config.yaml'), text);
  return { JIT_CONFIG: join(dir, 'config.yaml') };
}

describe('resolveSettings', () => {
  it('should take each setting from the flag, then the environment, then the config file', async () => {
    const env = withConfig('url: https://from-file.example.com\ntoken: file-token\n');
    expect(resolveSettings({}, env).url).toBe('https://from-file.example.com');
    await expect(resolveSettings({}, env).token.getToken()).resolves.toBe('file-token');
    const withEnv = { ...env, JIT_URL: 'https://from-env.example.com/', JIT_TOKEN: 'env-token' };
    expect(resolveSettings({}, withEnv).url).toBe('https://from-env.example.com');
    await expect(resolveSettings({}, withEnv).token.getToken()).resolves.toBe('env-token');
    const flags = { url: 'http://127.0.0.1:8080', token: 'flag-token' };
    expect(resolveSettings(flags, withEnv).url).toBe('http://127.0.0.1:8080');
    await expect(resolveSettings(flags, withEnv).token.getToken()).resolves.toBe('flag-token');
  });

  it('should read a token file at each request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-token-'));
    writeFileSync(join(dir, 'token'), 'first\n');
    const { token } = resolveSettings({ url: 'http://x' }, { JIT_TOKEN_FILE: join(dir, 'token') });
    await expect(token.getToken()).resolves.toBe('first');
    writeFileSync(join(dir, 'token'), 'rotated\n');
    await expect(token.getToken()).resolves.toBe('rotated');
  });

  it('should name an unknown config key, a missing URL and a missing token', () => {
    expect(() => resolveSettings({}, withConfig('url: http://x\ntokn: abc\n'))).toThrow(expect.objectContaining({ details: ['tokn: Unrecognized key: "tokn"'] }));
    expect(() => resolveSettings({}, withConfig('token: abc\n'))).toThrow(/no broker URL/);
    expect(() => resolveSettings({ url: 'http://x' }, withConfig(''))).toThrow(/no token/);
    expect(() => resolveSettings({ url: 'ftp://x', token: 't' }, {})).toThrow(/must be http\(s\)/);
    expect(() => resolveSettings({ url: 'http://x' }, { JIT_OIDC_TOKEN_VAR: 'MY_TOKEN' })).toThrow(/names MY_TOKEN, which is not set/);
  });

  it("should name every variable the CLI's own credentials can come from, so jit exec keeps them from its command", () => {
    const env = {
      JIT_URL: 'http://x',
      JIT_TOKEN: 'user-token',
      JIT_TOKEN_FILE: '/run/secrets/jit',
      JIT_OIDC_TOKEN_VAR: 'MY_JOB_TOKEN',
      MY_JOB_TOKEN: 'gitlab-id-token',
      JIT_ID_TOKEN: 'gitlab-default-id-token',
      ACTIONS_ID_TOKEN_REQUEST_URL: 'https://runner.example/token',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-secret',
      CI_JOB_JWT: 'v0',
      CI_JOB_JWT_V2: 'v2',
      CI_JOB_ID: '42',
      AWS_REGION: 'eu-west-1',
    };
    const { credentialVariables } = resolveSettings({}, env);
    expect(withoutVariables(env, credentialVariables)).toEqual({ JIT_URL: 'http://x', JIT_OIDC_TOKEN_VAR: 'MY_JOB_TOKEN', CI_JOB_ID: '42', AWS_REGION: 'eu-west-1' });
    expect(env.JIT_TOKEN).toBe('user-token'); // a copy: the CLI's own environment is left as it is
    // The config file's oidcTokenVar names a credential too, even when the token came from elsewhere.
    const fromFile = resolveSettings({ url: 'http://x', token: 'flag' }, { ...withConfig('oidcTokenVar: FILE_TOKEN\n'), FILE_TOKEN: 't' });
    expect(fromFile.credentialVariables).toContain('FILE_TOKEN');
  });

  it('should default the config file to the XDG folder', () => {
    expect(configFilePath({ XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/jit/config.yaml');
    expect(configFilePath({ JIT_CONFIG: '/etc/jit.yaml', XDG_CONFIG_HOME: '/cfg' })).toBe('/etc/jit.yaml');
  });

  it("should mint GitHub Actions' OIDC token for the audience asked, and mint it again when it nears its expiry", async () => {
    const asked: string[] = [];
    let expiresIn = 30;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      asked.push(`${req.headers.authorization} ${url.searchParams.get('api-version')} ${url.searchParams.get('audience')}`);
      const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + expiresIn })).toString('base64url');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: `h.${payload}.s${asked.length}` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const env = {
        ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-secret',
        JIT_OIDC_AUDIENCE: 'https://jit.acme.com',
      };
      const { token } = resolveSettings({ url: 'http://x' }, env);
      // 30 s left is inside the one-minute margin: asked again.
      expect(await token.getToken()).toMatch(/\.s1$/);
      expiresIn = 600;
      expect(await token.getToken()).toMatch(/\.s2$/);
      expect(await token.getToken()).toMatch(/\.s2$/);
      expect(asked).toEqual(['Bearer runner-secret 2.0 https://jit.acme.com', 'Bearer runner-secret 2.0 https://jit.acme.com']);
      const byFlag = resolveSettings({ url: 'http://x', audience: 'flag-aud' }, env).token;
      await byFlag.getToken();
      expect(asked.at(-1)).toBe('Bearer runner-secret 2.0 flag-aud');
      // An explicit JIT_TOKEN wins over the job's token.
      await expect(resolveSettings({ url: 'http://x' }, { ...env, JIT_TOKEN: 'static' }).token.getToken()).resolves.toBe('static');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
