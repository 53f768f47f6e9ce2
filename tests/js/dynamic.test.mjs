// What real models do that tract does not take as they are, through the built package in Node
// (the graphs and onnxruntime's outputs: training/dynamic_fixtures.py; natively: tests/dynamic.rs):
// free and unnamed dimensions typed per shape set, If resolved by shapes or by a scalar input's
// value, an optimizer pass that fails skipped; model.engineDetails and model.planFor().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { edgeserve, root } from './helpers.mjs';

const { Model } = await edgeserve();
const fixture = name => ({
  bytes: readFileSync(`${root}tests/fixtures/onnx/${name}.onnx`),
  expected: JSON.parse(readFileSync(`${root}tests/fixtures/onnx/${name}.json`, 'utf8')),
});
const ARRAYS = { float32: Float32Array, int64: BigInt64Array };

/** Runs every recorded call and compares each output with onnxruntime's. */
function runCalls(model, expected) {
  for (const call of expected.calls) {
    const inputs = {};
    const shapes = {};
    for (const [name, spec] of Object.entries(call.inputs)) {
      inputs[name] =
        spec.dtype === 'int64' ? BigInt64Array.from(spec.data, BigInt) : ARRAYS[spec.dtype].from(spec.data);
      shapes[name] = spec.shape;
    }
    const outputs = model.run(inputs, { shapes });
    for (const [name, want] of Object.entries(call.outputs)) {
      assert.deepEqual(outputs[name].shape, want.shape, `${name} shape`);
      const worst = Math.max(0, ...Array.from(outputs[name].data, (v, i) => Math.abs(v - want.data[i])));
      assert.ok(worst <= 1e-4, `${name}: off by ${worst}`);
    }
  }
}

test('free and unnamed dimensions: symbols in the manifest, typed per shape set, planFor plans ahead', async () => {
  const { bytes, expected } = fixture('free_dims');
  const model = await Model.fromBytes(bytes);
  assert.deepEqual(model.manifest.inputs[0].shape, ['x_0', 3, 'x_2', 'x_3']);
  const details = model.engineDetails;
  assert.equal(details.executor, 'tract');
  assert.equal(details.typing, 'per shape set');
  assert.match(details.notes[0], /^tract could not type the graph for any input shapes/);
  runCalls(model, expected);
  assert.deepEqual(model.engineDetails.plannedShapes, [[[1, 3, 8, 10]], [[2, 3, 6, 4]]]);
  model.planFor({ x: [1, 3, 4, 4] });
  assert.deepEqual(model.engineDetails.plannedShapes.at(-1), [[1, 3, 4, 4]]);
  assert.throws(() => model.planFor({ x: [1, 5, 4, 4] }), {
    code: 'BAD_INPUT',
    message: 'the shape of input "x": expected [x_0, 3, x_2, x_3], got [1, 5, 4, 4]',
  });
  assert.throws(() => model.planFor({ x: 'big' }), { code: 'BAD_INPUT' });
  assert.throws(() => model.planFor([1, 3, 4, 4]), { code: 'BAD_INPUT' });
  assert.throws(() => model.planFor({ y: [1] }), { code: 'BAD_INPUT' });
  model.free();
});

test('If: by a scalar input value and by shapes, each call typed with the branch it takes', async () => {
  const { bytes, expected } = fixture('branches');
  const model = await Model.fromBytes(bytes);
  runCalls(model, expected);
  const out = model.run(
    { x: Float32Array.of(1, 2, 3, 4), sr: BigInt64Array.of(8000n) },
    { shapes: { x: [1, 4], sr: [] } },
  );
  assert.deepEqual(Array.from(out.rate.data), [2, 3, 4, 5]);
  assert.deepEqual(out.lone.shape, [4]);
  model.free();
});

test('a recurrent loop starts each call from the state the call gives, whatever ran before on its plan', async () => {
  const { bytes, expected } = fixture('recurrent');
  const model = await Model.fromBytes(bytes);
  runCalls(model, expected);
  runCalls(model, expected); // every plan used again
  model.free();
});

test('an optimizer pass that fails on a valid graph is skipped, and engineDetails says so', async () => {
  const { bytes, expected } = fixture('optimizer_failure');
  const model = await Model.fromBytes(bytes);
  assert.ok(
    model.engineDetails.notes.some(n => n.includes('tract\'s pass "declutter" failed')),
    model.engineDetails.notes.join('\n'),
  );
  runCalls(model, expected);
  model.free();
});
