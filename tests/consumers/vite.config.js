// vite.config.js: two pages (app/full.html, app/lean.html) into dist/vite/, with relative URLs
// (the app may live under any path). Nothing edgeserve needs: Vite finds the package's Worker
// (`new Worker(new URL('./worker.js', import.meta.url))`) and its wasm files
// (`new URL('edgeserve_bg.wasm', import.meta.url)`) by itself.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = name => fileURLToPath(new URL(`app/${name}.html`, import.meta.url));

export default defineConfig({
  root: 'app',
  base: './',
  logLevel: 'warn',
  build: {
    outDir: '../dist/vite',
    emptyOutDir: true,
    rolldownOptions: { input: { full: page('full'), lean: page('lean') } },
  },
});
