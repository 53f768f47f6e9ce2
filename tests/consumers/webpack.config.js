// webpack.config.js: two apps into dist/webpack/ (full.js, lean.js, for pages of your own).
// Nothing edgeserve needs: webpack 5 bundles the package's Worker
// (`new Worker(new URL('./worker.js', import.meta.url))`) as a chunk of its own and emits its
// wasm files (`new URL('edgeserve_bg.wasm', import.meta.url)`) as assets.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  entry: { full: './app/full.js', lean: './app/lean.js' },
  output: { path: fileURLToPath(new URL('dist/webpack/', import.meta.url)), clean: true },
  stats: 'errors-warnings',
  performance: { hints: false }, // the wasm is megabytes by nature
};
