// Streams glue for `model.stream()`: only what must be JavaScript. The queue, the micro-batches,
// per-item errors and the timings live in Rust (StreamCore); this wires them to a WHATWG
// TransformStream and a timer.
//
// - An item is queued in the core as it is written. When the core holds `maxBatch` items the
//   micro-batch runs at once; otherwise a timer runs it `maxWaitMs` after its first item came.
// - Outputs are enqueued in input order. The stream's own queues (high-water marks of `maxBatch`
//   items on each side) apply backpressure: a writer awaiting `ready` (or a pipe) is slowed to
//   the model's pace, and the core never holds more than `maxBatch` items.

export function createStream(core, maxBatch, maxWaitMs) {
  let timer = null;
  const run = controller => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    for (const output of core.flush()) controller.enqueue(output);
  };
  return new TransformStream(
    {
      transform(item, controller) {
        core.push(item);
        if (core.isFull()) {
          run(controller);
        } else if (timer === null) {
          timer = setTimeout(() => {
            try {
              run(controller);
            } catch (e) {
              controller.error(e);
            }
          }, maxWaitMs);
        }
      },
      flush(controller) {
        while (core.queued > 0) run(controller);
        core.free();
      },
    },
    { highWaterMark: maxBatch },
    { highWaterMark: maxBatch },
  );
}
