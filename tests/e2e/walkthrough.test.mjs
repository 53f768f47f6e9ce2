// docs/cli.md's walk-through, as a user follows it: each of its sh blocks run in order in a fresh
// directory (the command line from this repository's build on the PATH, `path/to/edgeserve` this
// repository), its page written beside what they made and opened in Chromium, which must show
// the prediction the page says, with no console error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launch } from './browser.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(`${root}docs/cli.md`, 'utf8');
const blocks = lang => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map(m => m[1]);

test('docs/cli.md: an ONNX file, edgeserve pack, make lean-pkg, a prediction in a page', async () => {
  const cli = `${root}target/debug`;
  assert.ok(existsSync(`${cli}/edgeserve`), 'target/debug/edgeserve: make cli-debug builds it');
  const dir = mkdtempSync(join(tmpdir(), 'edgeserve-walkthrough-'));
  const env = { ...process.env, PATH: `${cli}:${process.env.PATH}`, MAKEFLAGS: '' };
  const commands = blocks('sh');
  assert.equal(commands.length, 3, 'the walk-through has three sh blocks');
  for (const block of commands) {
    const script = block.replaceAll('path/to/edgeserve', root);
    try {
      execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env, stdio: 'pipe', encoding: 'utf8' });
    } catch (e) {
      assert.fail(`this block of docs/cli.md failed:\n${block}\n${e.stdout}\n${e.stderr}`);
    }
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'my-models/iris/manifest.json'), 'utf8'));
  assert.deepEqual(manifest.labels, ['setosa', 'versicolor', 'virginica']);
  assert.ok(existsSync(join(dir, 'my-models/iris/golden.json')), 'pack recorded golden.json');
  assert.ok(existsSync(join(dir, 'my-pkg/edgeserve_relaxed_bg.wasm')), 'both SIMD builds are in the package');

  const [html] = blocks('html');
  writeFileSync(join(dir, 'index.html'), html);
  const shows = doc.match(/The page shows `([^`]+)`/)[1];
  const server = await serve(dir, 0);
  const browser = await launch();
  const problems = [];
  try {
    const page = await browser.newPage();
    page.on('console', m => ['error', 'warning'].includes(m.type()) && problems.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', e => problems.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
    await page.waitForFunction(() => document.querySelector('#out').textContent !== '...', null, { timeout: 30000 });
    assert.equal(await page.textContent('#out'), shows);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
