import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenRegistry, sha256Hex } from './token-registry';

/** A tokens file as an operator writes it; `\ud800` is how JSON spells a lone surrogate. */
function tokensFile(json: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'jit-tokens-')), 'tokens.json');
  writeFileSync(path, json);
  return path;
}

describe(TokenRegistry.name, () => {
  describe('load', () => {
    const hash = sha256Hex('tok-0123456789abcdef');

    it('should resolve a listed token to its subject, roles and groups', () => {
      const registry = TokenRegistry.load(tokensFile(`{"tokens":[{"subject":"ann","roles":["requester"],"groups":["ops"],"sha256":"${hash}"}]}`), undefined);

      expect(registry.resolve('tok-0123456789abcdef')).toEqual({ subject: 'ann', roles: ['requester'], groups: ['ops'] });
    });

    it.each([
      ['subject', `{"tokens":[{"subject":"ann\\ud800","roles":["requester"],"sha256":"${hash}"}]}`, 'tokens.0.subject'],
      ['group', `{"tokens":[{"subject":"ann","roles":["requester"],"groups":["\\udc00"],"sha256":"${hash}"}]}`, 'tokens.0.groups.0'],
    ])('should refuse a %s holding a lone surrogate, naming it', (_what, json, field) => {
      expect(() => TokenRegistry.load(tokensFile(json), undefined)).toThrow(`${field}: must be well-formed Unicode`);
    });
  });
});
