// ESLint: async hygiene, exhaustive switches and import boundaries (style.md §2, §3.15),
// with type information from tsconfig.json. `npm run lint` runs it with dependency-cruiser
// (.dependency-cruiser.cjs), which checks the layering itself; docs/architecture.md lists both.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * Every lib's alias, for the "through the barrel" rule. The one other entry a lib may declare is
 * a provider lib's SDK-free `@jit/provider-<cloud>/kinds` (its src/kinds.ts, in tsconfig's paths).
 */
const DEEP_IMPORT = {
  regex: '^@jit/(?!provider-[^/]+/kinds$)[^/]+/',
  message: 'Import the lib through its barrel, `@jit/<lib>` (style.md §2), or a provider lib\'s `@jit/provider-<cloud>/kinds`.',
};

export default defineConfig(
  // libs/client/dist: the published client's build (npm run build:client), not source.
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'coverage/**', 'libs/client/dist/**'] },
  {
    // .tsx: the console (apps/console), type-checked through its own apps/console/tsconfig.json.
    files: ['**/*.ts', '**/*.tsx'],
    // `recommended`, not `recommendedTypeChecked`: the latter's no-unsafe-* family and
    // require-await report ~760 places, nearly all untyped response bodies in tests and async
    // methods that satisfy a port: rewriting working code for style, not finding bugs.
    // The type-aware rules that find real bugs are switched on one by one below.
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Async hygiene: a promise is awaited, returned, or marked `void` where fire-and-forget
      // is meant; this also catches an un-awaited `expect(...).resolves/rejects` in tests.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Reject with an Error; passing on a caught `unknown` as it came is fine.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true, allowThrowingAny: true }],
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      // `${x}` or String(x) on an object prints "[object Object]".
      '@typescript-eslint/no-base-to-string': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // [10, 9, 1].sort() is [1, 10, 9].
      '@typescript-eslint/require-array-sort-compare': ['error', { ignoreStringArrays: true }],
      // A switch over a union names every member, or has a `default`: a provider's switch
      // over all target kinds rightly sends other clouds' kinds there (8 such switches).
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-debugger': 'error',
      'no-var': 'error',
      // `let x; server = create(() => x.handle()); x = ...` is fine: the closure runs later.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Unused code: `_`-prefixed names are deliberate.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      'no-restricted-imports': ['error', { patterns: [DEEP_IMPORT] }],
    },
  },
  {
    // Inside a lib or an app, a relative import stays in its own src: another lib is
    // `@jit/<lib>`, never `../../<lib>/src/...`; libs never reach into apps.
    files: ['libs/**/*.ts', 'apps/**/*.ts', 'apps/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            DEEP_IMPORT,
            {
              regex: '^(\\.\\./)+([\\w.-]+/)*(src|libs|apps)(/|$)',
              message: 'A relative import leaves its lib; import the other lib as `@jit/<lib>` (style.md §2).',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read wire bodies (supertest, fetch, raw SQL rows) field by field: `any` is the
    // honest type there. Production code keeps the rule.
    files: ['test/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests and benchmarks reach the libs through their barrels too (apps by relative path).
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            DEEP_IMPORT,
            { regex: '^(\\.\\./)+libs/', message: 'Import a lib as `@jit/<lib>`, not by a relative path (style.md §2).' },
          ],
        },
      ],
    },
  },
);
