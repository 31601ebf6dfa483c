// The console's build (`npm run build:console`, and `npm run build` after the broker): a static
// single-page app under /console/ written to dist/console, which the broker serves. It reaches the
// broker only through the typed client (@jit/client, libs/client/src) on the public v1 API.
// No inline script or style in the output, so the broker's Content-Security-Policy needs no
// 'unsafe-inline' (no module-preload polyfill either: every browser the console supports has it).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/console/',
  resolve: {
    alias: {
      '@jit/client': here('../../libs/client/src/index.ts'),
      '@jit/domain': here('../../libs/domain/src/index.ts'),
    },
  },
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: here('../../dist/console'),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    // No source maps in what the broker serves: they would publish the full source of every page.
    sourcemap: false,
    target: 'es2022',
    rollupOptions: {
      // React Query's "use client" lines mean something only to React Server Components: none here.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    // `npx vite --config apps/console/vite.config.mjs` during development: the broker's API and console routes on :8080.
    proxy: { '/v1': 'http://127.0.0.1:8080', '/docs': 'http://127.0.0.1:8080', '/console/auth': 'http://127.0.0.1:8080', '/console/session': 'http://127.0.0.1:8080' },
  },
});
