// Wasm memory stays flat under long use: 100,000 predictions, 1,000 stream micro-batches, 100
// load/free cycles, each after a warm-up. Wasm memory only grows (64 KiB pages), so a leak shows
// as growth; the bound allows one allocator step (1 MiB), far below what a leak of one row per
// call (25 MB over 100,000 calls) would take. The figures are printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pkgDir } from './helpers.mjs';

const mod = await import(`${pkgDir}edgeserve.js`);
const wasm = mod.initSync({ module: readFileSync(`${pkgDir}edgeserve_bg.wasm`) });
const bytes = () => wasm.memory.buffer.byteLength;
const SLACK = 1 << 20;
const row = Float32Array.from({ length: 64 }, (_, i) => i % 17);

function flat(what, run, warmup) {
  warmup();
  const before = bytes();
  run();
  const after = bytes();
  console.log(`${what}: wasm memory ${before} -> ${after} bytes`);
  assert.ok(after - before <= SLACK, `${what}: grew by ${after - before} bytes`);
}

test('100,000 predictions', () => {
  const model = mod.Model.default();
  flat(
    '100,000 predictions',
    () => {
      for (let i = 0; i < 100_000; i++) model.predict(row);
    },
    () => {
      for (let i = 0; i < 1000; i++) model.predict(row);
    },
  );
  model.free();
});

test('100 load/free cycles', () => {
  const cycle = () => {
    const m = mod.Model.load('digits-accurate');
    m.predict(row);
    m.free();
  };
  flat(
    '100 load/free cycles',
    () => {
      for (let i = 0; i < 100; i++) cycle();
    },
    () => {
      for (let i = 0; i < 20; i++) cycle();
    },
  );
});

test('1,000 stream micro-batches', async () => {
  const model = mod.Model.default();
  const run = async batches => {
    const stream = model.stream({ maxBatch: 32, maxWaitMs: 1 });
    const source = new ReadableStream({
      start(c) {
        for (let i = 0; i < batches * 32; i++) c.enqueue(row);
        c.close();
      },
    });
    let n = 0;
    await source.pipeThrough(stream).pipeTo(
      new WritableStream({
        write() {
          n++;
        },
      }),
    );
    return n;
  };
  await run(50);
  const before = bytes();
  assert.equal(await run(1000), 32_000);
  const after = bytes();
  console.log(`1,000 stream micro-batches: wasm memory ${before} -> ${after} bytes`);
  assert.ok(after - before <= SLACK, `grew by ${after - before} bytes`);
  model.free();
});

test('models dropped without free() are released when garbage collected', async () => {
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const collect = async () => {
    gc();
    await new Promise(r => setTimeout(r, 10)); // FinalizationRegistry callbacks run after a GC
    gc();
    await new Promise(r => setTimeout(r, 10));
  };
  const dropMany = async n => {
    for (let i = 0; i < n; i++) {
      mod.Model.load('digits-accurate').predict(row); // no free(): left to the GC
      if (i % 10 === 9) await collect();
    }
    await collect();
  };
  await dropMany(20);
  const before = bytes();
  await dropMany(200); // ~200 KB of weights and plans each: 40 MB if never released
  const after = bytes();
  console.log(`200 models dropped without free(): wasm memory ${before} -> ${after} bytes`);
  assert.ok(after - before <= 8 * SLACK, `grew by ${after - before} bytes`);
});
