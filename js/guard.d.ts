/**
 * The WebAssembly.RuntimeError that poisoned this build's instance (a bug in edgeserve: after it,
 * every call throws an Error with code 'INTERNAL'), or null while the instance is sound.
 */
export function trapped(): WebAssembly.RuntimeError | null;
