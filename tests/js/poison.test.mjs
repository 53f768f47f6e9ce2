// A trap of the wasm instance (a bug: no input makes one) must not leave a page running on memory
// that may be corrupt: the package's guard (js/guard.js) poisons the instance at the first
// WebAssembly.RuntimeError, the call that met it throws an Error with code INTERNAL, and so does
// every later call, on any object of that build. The traps here are real: a method called with a
// handle that points outside wasm memory (as memory corruption would leave it). Each build has its
// own instance, so the full build is poisoned by a call, the lean one by a step of a batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { edgeserve, golden } from './helpers.mjs';

const OUTSIDE_MEMORY = 0xfffffff0;
const good = Float32Array.from(golden('digits-accurate').cases[0].input);

function isInternal(e) {
  assert.equal(e.code, 'INTERNAL', e.message);
  assert.ok(e.cause instanceof WebAssembly.RuntimeError, 'the cause is the trap');
  assert.match(
    e.message,
    /expected a working edgeserve instance, got one that trapped in Model\.predict\(\)|trapped in Job\.step\(\)/,
  );
  return true;
}

test('a trap in a call poisons the instance: that call and every later one throw INTERNAL', async () => {
  const { Model, ModelSet, trapped } = await edgeserve();
  const model = Model.load('digits-accurate');
  const other = Model.load('digits-fast');
  assert.equal(other.predict(good).label, golden('digits-fast').cases[0].expected.label);
  assert.equal(trapped(), null);
  const handle = model.__wbg_ptr;
  model.__wbg_ptr = OUTSIDE_MEMORY;
  assert.throws(() => model.predict(good), isInternal);
  model.__wbg_ptr = handle;
  assert.ok(trapped() instanceof WebAssembly.RuntimeError);
  // Every later call, on every object and every static, refuses.
  assert.throws(() => model.predict(good), isInternal);
  assert.throws(() => other.predict(good), isInternal);
  assert.throws(() => other.name, isInternal);
  assert.throws(() => Model.load('digits-fast'), isInternal);
  assert.throws(() => ModelSet.embedded(), isInternal);
  await assert.rejects(other.predictBatch(good), isInternal);
  await assert.rejects(Model.fromBytes(new Uint8Array(8)), isInternal);
  // free() does nothing on a poisoned instance.
  other.free();
});

test('a trap in a step of a long call rejects its Promise with INTERNAL and poisons the instance', async () => {
  const { Model, Job, trapped } = await edgeserve({ lean: true });
  const model = Model.load('digits-accurate');
  const step = Job.prototype.step;
  Job.prototype.step = function corrupted() {
    this.__wbg_ptr = OUTSIDE_MEMORY;
    return step.call(this);
  };
  try {
    await assert.rejects(model.predictBatch(good, { chunkSize: 1 }), isInternal);
  } finally {
    Job.prototype.step = step;
  }
  assert.ok(trapped() instanceof WebAssembly.RuntimeError);
  assert.throws(() => model.predict(good), isInternal);
});
