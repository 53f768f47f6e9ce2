// Recovery from a trap of the wasm instance (a bug: no input makes one), in Debian's headless
// Chromium. On the page thread the package's guard poisons the instance: the call that trapped and
// every later one throw an Error with code INTERNAL. A WorkerModel whose worker traps rejects that
// call with INTERNAL, starts a new worker, and serves the next call from it. The traps are real: a
// method called with a handle that points outside wasm memory. The worker's is set off by a copy
// of the package whose worker.js corrupts the handle for a row starting with TRAP_ROW, and for the
// load of TRAP_MODEL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launch, openPage } from './browser.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const golden = JSON.parse(readFileSync(`${root}models/digits-accurate/golden.json`, 'utf8'));
const copy = `${root}target/e2e-trap-pkg/`;
const TRAP_ROW = -12345;
/** A model name whose load traps in the test worker. */
const TRAP_MODEL = 'trap-on-load';
let server, browser, page;
const problems = [];

before(async () => {
  rmSync(copy, { recursive: true, force: true });
  cpSync(`${root}pkg/`, copy, { recursive: true });
  const worker = readFileSync(`${copy}worker.js`, 'utf8');
  writeFileSync(
    `${copy}worker.js`,
    `import { Model as Trapping } from './index.js';
const predict = Trapping.prototype.predict;
Trapping.prototype.predict = function trapFor(row) {
  if (row?.[0] === ${TRAP_ROW}) this.__wbg_ptr = 0xfffffff0;
  return predict.call(this, row);
};
const load = Trapping.load;
Trapping.load = function trapOnLoad(name) {
  if (name !== '${TRAP_MODEL}') return load.call(this, name);
  const model = load.call(this, 'digits-accurate');
  model.__wbg_ptr = 0xfffffff0;
  return model.name;
};
${worker}`,
  );
  server = await serve(root, 0);
  browser = await launch();
  page = await openPage(browser, `http://127.0.0.1:${server.address().port}/tests/e2e/fixtures/trap.html`, problems);
});

after(async () => {
  await browser?.close();
  server?.close();
  rmSync(copy, { recursive: true, force: true });
});

test('a WorkerModel whose worker traps rejects that call with INTERNAL and serves the next from a new worker', async () => {
  const result = await page.evaluate(
    async ({ input, trapRow }) => {
      const remote = await window.edgeserve.WorkerModel.create({ model: 'digits-accurate' });
      const before = (await remote.predict(input)).label;
      const bad = Float32Array.from(input);
      bad[0] = trapRow;
      const inFlight = remote.predictBatch(Array(2000).fill(input), { chunkSize: 1 });
      let trapped;
      try {
        await remote.predict(bad);
      } catch (e) {
        trapped = { code: e.code, message: e.message };
      }
      let batch;
      try {
        await inFlight;
        batch = 'resolved';
      } catch (e) {
        batch = e.code;
      }
      const afterLabels = [];
      for (let i = 0; i < 3; i++) afterLabels.push((await remote.predict(input)).label);
      const restarts = remote.restarts;
      remote.terminate();
      return { before, trapped, batch, afterLabels, restarts };
    },
    { input: golden.cases[0].input, trapRow: TRAP_ROW },
  );
  const label = golden.cases[0].expected.label;
  assert.equal(result.before, label);
  assert.equal(result.trapped?.code, 'INTERNAL', JSON.stringify(result.trapped));
  assert.match(result.trapped.message, /trapped in Model\.predict\(\)/);
  assert.equal(result.batch, 'INTERNAL', 'the batch in flight in the same worker rejects too');
  assert.deepEqual(result.afterLabels, [label, label, label]);
  assert.equal(result.restarts, 1);
});

test('a worker that traps while loading the model: create() rejects with INTERNAL', async () => {
  const result = await page.evaluate(async name => {
    try {
      await window.edgeserve.WorkerModel.create({ model: name });
      return 'created';
    } catch (e) {
      return { code: e.code, message: e.message };
    }
  }, TRAP_MODEL);
  assert.equal(result.code, 'INTERNAL', JSON.stringify(result));
  assert.match(result.message, /trapped in Model\.name/);
});

test('on the page thread, a trap poisons the instance: INTERNAL for that call and every later one', async () => {
  const result = await page.evaluate(async input => {
    const { default: init, Model, trapped } = window.edgeserve;
    await init();
    const model = Model.load('digits-accurate');
    const other = Model.load('digits-fast');
    const codes = [];
    const handle = model.__wbg_ptr;
    model.__wbg_ptr = 0xfffffff0;
    try {
      model.predict(input);
    } catch (e) {
      codes.push(e.code);
    }
    model.__wbg_ptr = handle;
    try {
      other.predict(input);
    } catch (e) {
      codes.push(e.code);
    }
    try {
      Model.load('digits-fast');
    } catch (e) {
      codes.push(e.code);
    }
    try {
      await other.predictBatch(input);
    } catch (e) {
      codes.push(e.code);
    }
    return { codes, trap: trapped()?.constructor?.name };
  }, golden.cases[0].input);
  assert.deepEqual(result, { codes: ['INTERNAL', 'INTERNAL', 'INTERNAL', 'INTERNAL'], trap: 'RuntimeError' });
});

test('no console errors or warnings', () => {
  assert.deepEqual(problems, []);
});
