// The package's guard over the wasm API: the package entry (index.js, written by
// scripts/package.mjs) applies `guardAll` to every class wasm-bindgen made, wrapping each method,
// getter and static function:
// - Use after free(): wasm-bindgen's own check throws a bare Error('null pointer passed to rust');
//   the guard throws an Error with code 'BAD_INPUT' naming the class and the method instead (and
//   the same for a method called on something that is not an object of its class). It checks
//   wasm-bindgen's handle (`__wbg_ptr`, 0 once freed); tests/js/bad-input.test.mjs fails if a
//   wasm-bindgen update changes it.
// - A trap: edgeserve's exports never trap on any input (every error is an Error with a code),
//   so a WebAssembly.RuntimeError is a bug, and the instance's memory may be inconsistent after it
//   (a borrow left held, a structure half written). The first one poisons the instance: that call
//   and every later one, on any object of this build, throws an Error with code 'INTERNAL' that
//   says so (its `cause` is the trap), rather than running on memory that may be corrupt. A page
//   recovers by loading again; a WorkerModel starts a new worker by itself (client.js).
//   Long calls (batches, benchmarks, loads) run their wasm from async functions of the package
//   (jobs.js, fetch.js), so their traps reject the Promise the guard returns too.

let poisoned = null;

/** The calls that return a Promise: a refusal rejects it rather than throwing. */
const ASYNC = new Set([
  'Model.predictBatch()',
  'Model.predictCsv()',
  'Model.fromBytes()',
  'Model.fromUrl()',
  'ModelSet.benchmark()',
]);

/** The trap that poisoned this build's instance, or null. */
export function trapped() {
  return poisoned?.trap ?? null;
}

function internal(where) {
  const { trap, where: first } = poisoned;
  const error = new Error(
    `${where}: expected a working edgeserve instance, got one that trapped in ${first} (${trap?.name}: ${trap?.message}), a bug in edgeserve; ` +
      'it refuses every call from now on: load the page again (a WorkerModel starts a new worker by itself)',
  );
  return Object.assign(error, { code: 'INTERNAL', cause: trap });
}

function isTrap(e) {
  return typeof WebAssembly === 'object' && e instanceof WebAssembly.RuntimeError;
}

/**
 * A call's failure as the caller gets it: a trap poisons the instance and becomes INTERNAL;
 * wasm-bindgen's refusal of a call on an object that a call in progress holds (made from a getter
 * or a callback that call runs) becomes BAD_INPUT; anything else passes as it is.
 */
function failure(e, where) {
  if (isTrap(e)) {
    poisoned ??= { trap: e, where };
    return internal(where);
  }
  if (e instanceof Error && e.code === undefined && /recursive use of an object/.test(e.message)) {
    const error = new Error(
      `${where} was called while a call on the same object was in progress: expected a call from outside edgeserve's calls, got one from a getter or a callback that a call of the same object runs`,
    );
    return Object.assign(error, { code: 'BAD_INPUT', cause: e });
  }
  return e;
}

function notLive(Class, key, what, self) {
  const freed = self !== null && typeof self === 'object' && self.__wbg_ptr === 0;
  const error = freed
    ? new Error(
        `${Class.name}.${key}${what} after free(): expected a live ${Class.name}, got one whose free() was called`,
      )
    : new Error(
        `${Class.name}.${key}${what} called on something else: expected a live ${Class.name}, got ${self === null ? 'null' : typeof self}`,
      );
  return Object.assign(error, { code: 'BAD_INPUT' });
}

function wrap(f, where, check) {
  const refuse = ASYNC.has(where)
    ? e => Promise.reject(e)
    : e => {
        throw e;
      };
  return function guarded(...args) {
    if (poisoned) return refuse(internal(where));
    try {
      check?.(this);
    } catch (e) {
      return refuse(e);
    }
    let result;
    try {
      result = f.apply(this, args);
    } catch (e) {
      throw failure(e, where);
    }
    if (result instanceof Promise) return result.catch(e => Promise.reject(failure(e, where)));
    return result;
  };
}

/** Guards every method, getter and static function of one class (see above). */
export function guard(Class) {
  for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(Class.prototype))) {
    if (key === 'constructor' || key.startsWith('__')) continue;
    if (key === 'free' && typeof d.value === 'function') {
      const free = d.value;
      // Freeing on a poisoned instance does nothing: its memory is not to be trusted.
      d.value = function guardedFree() {
        if (poisoned) return;
        try {
          free.call(this);
        } catch (e) {
          throw failure(e, `${Class.name}.free()`);
        }
      };
      Object.defineProperty(Class.prototype, key, d);
      continue;
    }
    const live = what => self => {
      if (self === null || typeof self !== 'object' || typeof self.__wbg_ptr !== 'number' || self.__wbg_ptr === 0)
        throw notLive(Class, key, what, self);
    };
    if (typeof d.value === 'function') d.value = wrap(d.value, `${Class.name}.${key}()`, live('()'));
    if (d.get) d.get = wrap(d.get, `${Class.name}.${key}`, live(''));
    Object.defineProperty(Class.prototype, key, d);
  }
  for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(Class))) {
    if (typeof d.value !== 'function' || key.startsWith('__') || key === 'prototype') continue;
    d.value = wrap(d.value, `${Class.name}.${key}()`, null);
    Object.defineProperty(Class, key, d);
  }
}

/** Guards every class among a module's exports (those with a `free` method: wasm-bindgen's). */
export function guardAll(exports) {
  for (const value of Object.values(exports)) {
    if (typeof value === 'function' && typeof value.prototype?.free === 'function') guard(value);
  }
}
