import { defineConfig } from 'vite';

// The config lives in web/ but `npm run build:web` runs from the repository root, so the project
// root is pinned to this folder. Output: web/dist/index.html + hashed files in web/dist/assets/.
const webRoot = new URL('.', import.meta.url).pathname;

// `vite --config web/vite.config.ts` (dev server) forwards API calls to a running gatehouse.
const backend = process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: webRoot,
  base: '/',
  publicDir: false,
  // Preact via the automatic JSX runtime, compiled by Vite's built-in Oxc transform (no Babel).
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No data: URIs: every asset is a file, so a strict Content-Security-Policy ('self') works.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/.well-known': { target: backend, changeOrigin: false },
      '/healthz': { target: backend, changeOrigin: false },
      '/readyz': { target: backend, changeOrigin: false },
    },
  },
});
