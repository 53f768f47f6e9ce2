// ESLint for the project's JavaScript (`make lint`): the recommended rules, on the npm package's
// own JavaScript (js/), the demo page (www/), the tests, the benchmarks and the scripts.
import js from '@eslint/js';
import globals from 'globals';

export default [
  {
    ignores: ['pkg/', 'dist/', 'target/', 'node_modules/', 'bench/text/node_modules/', 'fuzz/', 'vendor/'],
  },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      // The package and the page run in browsers, Workers and Node; the tests and scripts in Node,
      // and the functions they hand to Playwright in the page.
      globals: { ...globals.browser, ...globals.worker, ...globals.node },
    },
    rules: {
      // `catch {}` and `_`-prefixed names are how the code says "deliberately unused".
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
];
