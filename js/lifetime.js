// Clear errors for objects used after free(). wasm-bindgen's own check throws a bare
// Error('null pointer passed to rust'); the package entry (index.js) wraps every method and
// getter of the classes that own wasm memory so that such a call throws an Error with code
// 'BAD_INPUT' naming the class and the method instead. The wrapper checks wasm-bindgen's handle
// (`__wbg_ptr`, 0 once freed); tests/js/bad-input.test.mjs fails if a wasm-bindgen update
// changes it.
export function guardFreed(Class) {
  const descriptors = Object.getOwnPropertyDescriptors(Class.prototype);
  for (const [key, d] of Object.entries(descriptors)) {
    if (key === 'constructor' || key === 'free' || key.startsWith('__') || typeof key !== 'string') continue;
    const guard = (f, what) => function guarded(...args) {
      if (this.__wbg_ptr === 0) {
        const error = new Error(`${Class.name}.${key}${what} after free(): expected a live ${Class.name}, got one whose free() was called`);
        throw Object.assign(error, { code: 'BAD_INPUT' });
      }
      return f.apply(this, args);
    };
    if (typeof d.value === 'function') d.value = guard(d.value, '()');
    if (d.get) d.get = guard(d.get, '');
    Object.defineProperty(Class.prototype, key, d);
  }
}
