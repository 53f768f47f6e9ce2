// JavaScript values to throw at edgeserve's exports: fast-check arbitraries of hostile and
// ordinary values, for the boundary fuzzer (tests/catalogue/boundary-fuzz.mjs).
//
// No imports here (fast-check is passed in: `jsValues(fc, env)`), so this module runs in Node and
// in a browser page alike.
//
// An arbitrary here does not generate the value itself but a Spec: a recipe `{ desc, make(mk) }`
// that makes a fresh value for each call. So a call that detaches a buffer, revokes a Proxy or
// mutates an array spoils nothing for the next one; fast-check prints a counterexample by its
// description (no getter, trap or toString of the value runs while it prints); it shrinks the
// recipe; and a value that is costly to make (a huge typed array) is made only when it is used.
//
// `mk` (a Maker) is the record of one call: the sentinels its callbacks throw, the messages of
// the errors its getters, traps and coercions throw, whether a coercion ran, and what each
// callback did; the fuzzer judges the call's outcome against it.
//
// env (what the layer gives):
//   good            one golden row (64 numbers, 0..16), cases[0].input of digits-accurate
//   goodRows        [{ input, label }]: golden rows with their expected labels (goodRows[0] is `good`)
//   csv             CSV text: a header line (p0..p63,label) and a few rows
//   manifest        a valid manifest object (digits-fast's, for `onnx`)
//   onnx            the bytes (Uint8Array) of models/digits-fast/model.onnx
//   onnxSha256      their sha256 (hex)
//   inputName       the graph input name of the model under test ('X')
//   urls            URL strings safe to fetch in this layer (no real host; in a page, same-origin
//                   files only, since a 404 or a CSP refusal logs a console error)
//   sharedArrayBuffer   SharedArrayBuffer exists here (Node; a cross-origin-isolated page)
//   hugeTypedArrays     make typed arrays of 2**29 elements (not in the worker layer: a structured
//                       clone would copy them)
//   reenter()       optional: a call back into the model under test, made by some callbacks

const TO_STRING = Symbol.for('fast-check/toStringMethod');

/** The mark of an argument left out (only trailing ones are dropped: `f(a)` rather than `f(a, undefined)`). */
export const ABSENT = Object.freeze({
  absent: true,
  desc: '(absent)',
  make: () => undefined,
  [TO_STRING]: () => '(absent)',
});

/** A recipe of a value: `desc` says what it is, `make(mk)` makes a fresh one. `extra` may tag it. */
export function spec(desc, make, extra = {}) {
  return { desc, make, ...extra, [TO_STRING]: () => desc };
}

let serial = 0;

/** The record of one call (see the top of this file). */
export class Maker {
  constructor() {
    /** sentinel object -> where its callback sat ('onProgress', 'source', ...). */
    this.sentinels = new Map();
    /** Messages of the errors that getters, Proxy traps and coercions made for this call threw. */
    this.readErrors = [];
    /** A value whose errors come from the engine, not from us (a revoked Proxy), was made. */
    this.engineThrows = false;
    /** Argument positions whose toString / valueOf / Symbol.toPrimitive ran. */
    this.coerced = new Set();
    /** One record per callback made: { field, kind, called, threw }. */
    this.callbacks = [];
    /** Outcomes of the calls that re-entering callbacks made. */
    this.inner = [];
    /** What a value saw the callee do that it must not (read an endless iterator, ...). */
    this.problems = [];
    this.arg = 0;
    this.field = null;
  }

  sentinel(where) {
    const s = Object.freeze({ edgeserveFuzzSentinel: ++serial, where });
    this.sentinels.set(s, where);
    return s;
  }

  /** A function that throws a new Error saying that `what` threw (and records that it did). */
  failing(what) {
    const e = new Error(`fuzz: ${what} threw #${++serial}`);
    return () => {
      this.readErrors.push(e.message);
      throw e;
    };
  }
}

/** What a spec's make() threw: a bug of the fuzzer, not of the code under test. */
export class FuzzerBug extends Error {}

/** Makes the arguments of a call from their specs (trailing ABSENT ones dropped). */
export function makeArgs(specs, mk) {
  try {
    return makeArgsOrThrow(specs, mk);
  } catch (e) {
    throw new FuzzerBug(`making the arguments threw: ${describeSafely(e)}`);
  }
}

function makeArgsOrThrow(specs, mk) {
  let last = specs.length - 1;
  while (last >= 0 && specs[last] === ABSENT) last--;
  const args = [];
  for (let i = 0; i <= last; i++) {
    mk.arg = i;
    mk.field = null;
    args.push(specs[i].make(mk));
  }
  return args;
}

/** Says what a value is for a message: never its toString, and nothing that throws gets out. */
export function describeSafely(v) {
  try {
    if (v === null) return 'null';
    const t = typeof v;
    if (t === 'string') return `a string (${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v)})`;
    if (t === 'number' || t === 'boolean' || t === 'undefined') return `${t} ${Object.is(v, -0) ? '-0' : String(v)}`;
    if (t === 'bigint') return `bigint ${v}n`;
    if (t === 'symbol') return 'a symbol';
    if (t === 'function') return 'a function';
    if (v instanceof Error)
      return `${v.name}${v.code !== undefined ? ` [code ${String(v.code)}]` : ' [no code]'}: ${v.message}`;
    return `an object (${Object.prototype.toString.call(v)})`;
  } catch (e) {
    return 'a value that cannot even be described (a Proxy?)';
  }
}

/**
 * The arbitraries (of Specs), given fast-check and the layer's env (see the top of this file):
 *   primitive, number, string, bigint, symbol, nonString   primitives (-0, NaN, lone surrogates, ...)
 *   typedArray, detached, buffers, huge                     typed arrays of every kind and length,
 *                                                          on own, offset, shared, resizable buffers
 *   sparse, throwingArrays, proxies, coercers, frozen, cyclic, callback, nested
 *   leaf, any                                              all of the above (any: nested too)
 *   goodRow, nearlyGood, row                               rows: good, good but for one thing, anything
 *   batch, csvText, manifest, bytes, modelName, engineName, url, runInputs, shapes
 *   options(fields, hostile?), fieldValues, slowFree, anyBut(ok)   options objects of given fields
 */
export function jsValues(fc, env = {}) {
  const good = env.good ?? new Array(64).fill(0);
  const goodRows = env.goodRows ?? [{ input: good, label: null }];
  const has = name => typeof globalThis[name] === 'function';
  const canResize = typeof ArrayBuffer.prototype.resize === 'function';
  const shared = Boolean(env.sharedArrayBuffer) && has('SharedArrayBuffer');

  const weighted = (...pairs) => fc.oneof(...pairs.map(([weight, arbitrary]) => ({ weight, arbitrary })));
  const prim = (v, desc) => spec(desc ?? fc.stringify(v), () => v, { prim: v, isPrim: true });
  const konst = (desc, make, extra) => fc.constant(spec(desc, make, extra));

  // ---- primitives -------------------------------------------------------------------------------
  // prettier-ignore
  const specialNumbers = [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.5, 1.5, 16, 17, 16.000001, -0.000001, 64, 65, 255, 256,
    2 ** 24, 2 ** 24 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER,
    Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, 3.4028234663852886e38, 3.5e38, 1e-45, 1e-46, 1e308, 1e12];
  const number = weighted(
    [3, fc.constantFrom(...specialNumbers)],
    [2, fc.integer()],
    [2, fc.integer({ min: 0, max: 16 })],
    [1, fc.double()],
    [1, fc.double({ min: 0, max: 16, noNaN: true })],
  ).map(n => prim(n));
  const bigint = weighted(
    [2, fc.constantFrom(0n, 1n, -1n, 64n, 2n ** 63n - 1n, 2n ** 64n, -(2n ** 64n))],
    [1, fc.bigInt()],
  ).map(n => prim(n));
  const symbols = [Symbol('fuzz'), Symbol.iterator, Symbol.for('edgeserve'), Symbol.toPrimitive];
  const symbol = fc
    .constantFrom(...symbols.keys())
    .map(i => prim(symbols[i], `Symbol#${i} (${String(symbols[i].description)})`));
  const utf16 = fc
    .array(
      weighted(
        [3, fc.integer({ min: 0x20, max: 0x7e })],
        [1, fc.integer({ min: 0xd800, max: 0xdfff })],
        [1, fc.integer({ min: 0, max: 0xffff })],
      ),
      { maxLength: 16 },
    )
    .map(codes => String.fromCharCode(...codes));
  const stringValue = weighted(
    [
      3,
      fc.constantFrom(
        '',
        'digits-accurate',
        'digits-fast',
        'digits-huge',
        'rows',
        'tract',
        'ROWS',
        'label',
        'p0',
        '0,1,2',
        '\uD800',
        'a\uDC00b',
        '\uFEFF',
        '\0',
        'NaN',
        '1e999',
        '-0',
        '__proto__',
        'constructor',
        'toString',
        'http://127.0.0.1:9/x.onnx',
        'model.onnx',
      ),
    ],
    [2, fc.string({ maxLength: 12 })],
    [1, fc.string({ unit: 'binary', maxLength: 12 })],
    [1, utf16],
  );
  const string = weighted(
    [12, stringValue.map(s => prim(s))],
    [1, konst('"x".repeat(2**20)', () => 'x'.repeat(2 ** 20), { isPrim: true, prim: 'x'.repeat(16) })],
  );
  const primitive = weighted(
    [4, number],
    [3, string],
    [1, bigint],
    [1, symbol],
    [2, fc.constantFrom(undefined, null, true, false).map(v => prim(v))],
  );

  // ---- typed arrays and buffers -----------------------------------------------------------------
  const KINDS = [
    'Float32Array',
    'Float64Array',
    'Int8Array',
    'Uint8Array',
    'Uint8ClampedArray',
    'Int16Array',
    'Uint16Array',
    'Int32Array',
    'Uint32Array',
    'BigInt64Array',
    'BigUint64Array',
    ...(has('Float16Array') ? ['Float16Array'] : []),
  ];
  const isBig = kind => kind.startsWith('Big');
  const isFloat = kind => kind.startsWith('Float');
  const backings = [
    'own',
    'own',
    'own',
    'offset',
    ...(shared ? ['shared'] : []),
    ...(canResize ? ['resizable', 'tracking'] : []),
  ];

  function fillValue(kind, fill, i, seed) {
    let x;
    switch (fill) {
      case 'good':
        x = goodRows[seed % goodRows.length].input[i % 64];
        break;
      case 'zeros':
        x = 0;
        break;
      case 'nan':
        x = isFloat(kind) ? NaN : 0;
        break;
      case 'out':
        x = kind.includes('32') ? 2 ** 24 + 1 : 17;
        break;
      case 'max':
        x = isFloat(kind) ? 3.4e38 : 2 ** 31 - 1;
        break;
      default:
        x = ((seed * 2654435761 + i * 40503) >>> 0) % 17;
    }
    return isBig(kind) ? BigInt(Math.trunc(Number.isFinite(x) ? x : 0)) : x;
  }

  /** A typed array of `kind`, `length` elements, on a buffer of the given backing. */
  function makeTyped({ kind, length, fill, backing, seed }) {
    const C = globalThis[kind];
    const bpe = C.BYTES_PER_ELEMENT;
    const offset = backing === 'offset' ? 8 : 0;
    const bytes = (length + offset) * bpe;
    let view;
    if (backing === 'shared' && shared) view = new C(new SharedArrayBuffer(bytes), offset * bpe, length);
    else if (backing === 'resizable' && canResize)
      view = new C(new ArrayBuffer(bytes, { maxByteLength: bytes * 2 + 64 }), 0, length);
    else if (backing === 'tracking' && canResize)
      view = new C(new ArrayBuffer(bytes, { maxByteLength: bytes * 2 + 64 }));
    else view = new C(new ArrayBuffer(bytes), offset * bpe, length);
    for (let i = 0; i < length; i++) view[i] = fillValue(kind, fill, i, seed);
    return view;
  }

  const typedRecipe = fc.record({
    kind: fc.constantFrom(...KINDS),
    length: weighted([4, fc.constant(64)], [2, fc.constantFrom(0, 1, 63, 65, 128, 640)], [1, fc.nat(300)]),
    fill: fc.constantFrom('good', 'good', 'zeros', 'nan', 'out', 'max', 'random'),
    backing: fc.constantFrom(...backings),
    seed: fc.nat(1000),
  });
  const typedDesc = r => `${r.kind}(${r.length}, ${r.fill}${r.backing === 'own' ? '' : `, ${r.backing} buffer`})`;
  const typedArray = typedRecipe.map(r => spec(typedDesc(r), () => makeTyped(r)));

  const detach = buffer => {
    structuredClone(buffer, { transfer: [buffer] });
  };
  const detached = weighted(
    [
      3,
      typedRecipe
        .filter(r => r.backing !== 'shared')
        .map(r =>
          spec(`detached ${typedDesc(r)}`, () => {
            const v = makeTyped(r);
            detach(v.buffer);
            return v;
          }),
        ),
    ],
    [
      1,
      konst('a detached ArrayBuffer', () => {
        const b = new ArrayBuffer(256);
        detach(b);
        return b;
      }),
    ],
    [
      1,
      konst('a DataView on a detached buffer', () => {
        const b = new ArrayBuffer(256);
        const v = new DataView(b);
        detach(b);
        return v;
      }),
    ],
  );

  const buffers = weighted(
    [2, konst('ArrayBuffer(256)', () => new ArrayBuffer(256))],
    [1, konst('ArrayBuffer(0)', () => new ArrayBuffer(0))],
    [1, konst('DataView(ArrayBuffer(256))', () => new DataView(new ArrayBuffer(256)))],
    ...(shared
      ? [
          [1, konst('SharedArrayBuffer(256)', () => new SharedArrayBuffer(256))],
          [
            1,
            konst(
              'Float32Array(64) on a growable SharedArrayBuffer',
              () => new Float32Array(new SharedArrayBuffer(256, { maxByteLength: 1024 })),
            ),
          ],
        ]
      : []),
    ...(canResize
      ? [
          [
            1,
            konst('a Float32Array(64) whose resizable buffer shrank under it (out of bounds)', mk => {
              mk.engineThrows = true; // reading it throws the engine's own TypeError
              const b = new ArrayBuffer(256, { maxByteLength: 1024 });
              const v = new Float32Array(b, 0, 64);
              b.resize(16);
              return v;
            }),
          ],
        ]
      : []),
  );

  // ---- huge -------------------------------------------------------------------------------------
  // Made once (their pages stay untouched, so they cost no memory until read) and made again
  // if a call detached them.
  const hugeCache = new Map();
  const hugeTyped = (kind, exponent) => () => {
    const cached = hugeCache.get(kind);
    if (cached && cached.length > 0) return cached;
    for (let e = exponent; e >= 20; e -= 2) {
      try {
        const a = new globalThis[kind](2 ** e);
        hugeCache.set(kind, a);
        return a;
      } catch {
        // too big for this host: a smaller one
      }
    }
    return new globalThis[kind](64);
  };
  /** A Proxy of `target` whose length says `length`; reading a million of its elements is flagged (and stopped: a hang otherwise). */
  const lyingLength = (target, length, mk) => {
    let reads = 0;
    return new Proxy(target, {
      get(t, k, r) {
        if (k === 'length') return length;
        if (typeof k === 'string' && /^\d+$/.test(k) && ++reads === 1_000_000) {
          mk.problems.push(
            `read a million elements of an array whose length says ${length}: expected it refused by its length before reading`,
          );
          throw new Error('fuzz: a million elements read');
        }
        return Reflect.get(t, k, r);
      },
    });
  };
  const huge = weighted(
    [3, konst('new Array(2**32 - 1)', () => new Array(2 ** 32 - 1))],
    [
      2,
      konst('new Array(2**32 - 1) whose [0] is a good row', () => {
        const a = new Array(2 ** 32 - 1);
        a[0] = good.slice();
        return a;
      }),
    ],
    [
      1,
      konst('new Array(2**32 - 1) whose [0] is 1', () => {
        const a = new Array(2 ** 32 - 1);
        a[0] = 1;
        return a;
      }),
    ],
    [
      2,
      fc
        .constantFrom(1e12, 2 ** 32 - 1, 2 ** 53 - 1, -1, Infinity, NaN)
        .map(n => spec(`{ length: ${n} }`, () => ({ length: n }))),
    ],
    [
      2,
      fc
        .constantFrom(2 ** 32 - 1, 1e12, 65, 0)
        .map(n => spec(`a Proxy of a good row array whose length says ${n}`, mk => lyingLength(good.slice(), n, mk))),
    ],
    [1, konst('Float32Array(64 * 100001)', () => new Float32Array(64 * 100_001))],
    ...(env.hugeTypedArrays
      ? [
          [
            1,
            konst(
              'a huge Float32Array (2**29 elements: 2 GiB, or the most this host allocates)',
              hugeTyped('Float32Array', 29),
            ),
          ],
          [
            1,
            konst(
              'a huge Uint8Array (2**31 elements: 8 GiB as float32, or the most this host allocates)',
              hugeTyped('Uint8Array', 31),
            ),
          ],
        ]
      : []),
  );

  // ---- arrays: sparse, holey, with getters and iterators that throw ---------------------------
  const index = fc.nat(63);
  const withGetter = (arr, i, mk, what = `the getter of [${i}]`) => {
    const fail = mk.failing(what);
    Object.defineProperty(arr, i, { get: fail, enumerable: true, configurable: true });
    return arr;
  };
  const sparse = weighted(
    [
      2,
      index.map(i =>
        spec(`a good row with a hole at [${i}]`, () => {
          const a = good.slice();
          delete a[i];
          return a;
        }),
      ),
    ],
    [1, konst('new Array(64) (all holes)', () => new Array(64))],
    // eslint-disable-next-line no-sparse-arrays -- the holes are the value under test
    [1, konst('[, , 1]', () => [, , 1])],
    [1, konst('a good row with a named property', () => Object.assign(good.slice(), { extra: 1, length: 64 }))],
  );
  const throwingArrays = weighted(
    [3, index.map(i => spec(`a good row whose [${i}] getter throws`, mk => withGetter(good.slice(), i, mk)))],
    [
      1,
      konst('a good row whose own Symbol.iterator throws', mk => {
        const fail = mk.failing('Symbol.iterator');
        return Object.defineProperty(good.slice(), Symbol.iterator, { value: fail });
      }),
    ],
    [
      1,
      konst("a good row whose iterator's next() throws", mk => {
        const fail = mk.failing('next()');
        return Object.defineProperty(good.slice(), Symbol.iterator, { value: () => ({ next: fail }) });
      }),
    ],
    [
      1,
      konst('a good row whose own iterator never ends', mk =>
        Object.defineProperty(good.slice(), Symbol.iterator, {
          value: () => {
            let n = 0;
            return {
              next() {
                if (++n === 1_000_000) {
                  mk.problems.push(
                    'read a row through its own endless iterator (a hang): expected its elements read by index',
                  );
                  throw new Error('fuzz: a million items of an endless iterator read');
                }
                return { done: false, value: 1 };
              },
            };
          },
        }),
      ),
    ],
    [
      1,
      konst('an Array subclass of a good row whose iterator throws', mk => {
        const fail = mk.failing('the subclass iterator');
        class FuzzArray extends Array {
          [Symbol.iterator]() {
            return fail();
          }
        }
        return FuzzArray.from(good);
      }),
    ],
    [
      2,
      fc.constantFrom('length', 'buffer', 'byteOffset', 'byteLength').map(p =>
        spec(`a good Float32Array whose own ${p} getter throws`, mk => {
          const fail = mk.failing(`the ${p} getter`);
          return Object.defineProperty(Float32Array.from(good), p, { get: fail });
        }),
      ),
    ],
    [
      1,
      fc.constantFrom('length', 'buffer', 'byteOffset', 'byteLength').map(p =>
        spec(`a Float32Array subclass of a good row whose ${p} getter throws`, mk => {
          const fail = mk.failing(`the subclass ${p} getter`);
          class FuzzF32 extends Float32Array {}
          Object.defineProperty(FuzzF32.prototype, p, { get: fail });
          return FuzzF32.from(good);
        }),
      ),
    ],
    [
      1,
      konst('a good Float32Array whose own Symbol.iterator throws', mk => {
        const fail = mk.failing('the typed array iterator');
        return Object.defineProperty(Float32Array.from(good), Symbol.iterator, { value: fail });
      }),
    ],
    [
      1,
      konst('a good Float32Array whose constructor getter throws', mk => {
        const fail = mk.failing('the constructor getter');
        return Object.defineProperty(Float32Array.from(good), 'constructor', { get: fail });
      }),
    ],
  );

  // ---- Proxies ----------------------------------------------------------------------------------
  const TRAPS = [
    'get',
    'has',
    'ownKeys',
    'getPrototypeOf',
    'getOwnPropertyDescriptor',
    'defineProperty',
    'set',
    'deleteProperty',
    'isExtensible',
    'preventExtensions',
    'apply',
  ];
  const throwingHandler = (trap, mk) => {
    // A call of a Proxy of a function is a call of the user's function: what its apply trap
    // throws is a callback's own throw (a sentinel), not a read that failed.
    if (trap === 'apply') {
      const s = mk.sentinel(mk.field ?? `argument ${mk.arg}`);
      return {
        apply() {
          throw s;
        },
      };
    }
    const fail = mk.failing(`the Proxy ${trap} trap`);
    return { [trap]: fail };
  };
  const proxyTargets = [
    ['{}', () => ({})],
    ['a good row array', () => good.slice()],
    ['a good Float32Array', () => Float32Array.from(good)],
    ['a function', () => function target() {}],
    ['{ chunkSize: 8, labelColumn: "label" }', () => ({ chunkSize: 8, labelColumn: 'label' })],
  ];
  /** Proxies of what `target` makes, whose `trap` throws (or none: a transparent Proxy). */
  const proxyOf = (targetDesc, target) =>
    weighted(
      [
        4,
        fc
          .constantFrom(...TRAPS)
          .map(trap =>
            spec(
              `a Proxy of ${targetDesc} whose ${trap} trap throws`,
              mk => new Proxy(target(mk), throwingHandler(trap, mk)),
            ),
          ),
      ],
      [1, konst(`a transparent Proxy of ${targetDesc}`, mk => new Proxy(target(mk), {}))],
      // (not of a function: calling one throws the engine's TypeError, which is then a callback's own throw)
      ...(targetDesc === 'a function'
        ? []
        : [
            [
              1,
              konst(`a revoked Proxy of ${targetDesc}`, mk => {
                mk.engineThrows = true;
                const { proxy, revoke } = Proxy.revocable(target(mk), {});
                revoke();
                return proxy;
              }),
            ],
          ]),
    );
  const proxies = fc.oneof(...proxyTargets.map(([d, t]) => proxyOf(d, t)));

  // ---- objects that coerce, freeze, cycle ---------------------------------------------------------
  const coercion = (name, returns) => mk => {
    const arg = mk.arg;
    const fail = mk.failing(`${name}()`);
    return function coerce() {
      mk.coerced.add(arg);
      return returns === undefined ? fail() : returns;
    };
  };
  const coercers = weighted(
    [
      3,
      fc
        .constantFrom('toString', 'valueOf', 'toJSON')
        .map(m => spec(`an object whose ${m}() throws`, mk => ({ [m]: coercion(m)(mk) }))),
    ],
    [
      2,
      konst('an object whose Symbol.toPrimitive throws', mk => ({
        [Symbol.toPrimitive]: coercion('Symbol.toPrimitive')(mk),
      })),
    ],
    [
      2,
      fc.constantFrom('digits-accurate', 'rows', 'label', 'http://127.0.0.1:9/x.onnx').map(s =>
        spec(`an object whose toString() returns ${JSON.stringify(s)}`, mk => ({
          toString: coercion('toString', s)(mk),
        })),
      ),
    ],
    [1, konst('an object whose valueOf() returns 8', mk => ({ valueOf: coercion('valueOf', 8)(mk) }))],
    [
      1,
      konst('an object whose Symbol.toPrimitive returns "digits-fast"', mk => ({
        [Symbol.toPrimitive]: coercion('Symbol.toPrimitive', 'digits-fast')(mk),
      })),
    ],
    [
      1,
      fc
        .constantFrom('digits-accurate', 'rows', 'label', '')
        .map(s => spec(`new String(${JSON.stringify(s)})`, () => new String(s))),
    ],
    [1, konst('new Number(8)', () => new Number(8))],
    [1, konst('Object(1n)', () => Object(1n))],
    [1, konst('Object(Symbol())', () => Object(Symbol('boxed')))],
    [1, konst('new Date(NaN)', () => new Date(NaN))],
    [1, konst('/0,1,2/', () => /0,1,2/)],
    [1, konst('new Map([["X", 1]])', () => new Map([['X', 1]]))],
    [1, konst('a WeakRef', () => new WeakRef({}))],
    [1, konst('a Promise', () => Promise.resolve(good.slice()))],
    [
      1,
      konst('an Error with code BAD_INPUT', () =>
        Object.assign(new Error('expected nothing, got this'), { code: 'BAD_INPUT' }),
      ),
    ],
  );
  const deepFreeze = o => {
    if (o && typeof o === 'object' && !ArrayBuffer.isView(o)) {
      Object.freeze(o);
      for (const v of Object.values(o)) deepFreeze(v);
    }
    return o;
  };
  const frozen = weighted(
    [2, konst('a frozen good row array', () => Object.freeze(good.slice()))],
    [1, konst('Object.freeze({})', () => Object.freeze({}))],
    [1, konst('Object.freeze(new Float32Array(0))', () => Object.freeze(new Float32Array(0)))],
    [1, konst('a non-extensible good Float32Array', () => Object.preventExtensions(Float32Array.from(good)))],
    [1, konst('Object.create(null)', () => Object.create(null))],
  );
  const cyclic = weighted(
    [
      1,
      konst('a = []; a.push(a)', () => {
        const a = [];
        a.push(a);
        return a;
      }),
    ],
    [
      1,
      index.map(i =>
        spec(`a good row whose [${i}] is the row itself`, () => {
          const a = good.slice();
          a[i] = a;
          return a;
        }),
      ),
    ],
    [
      1,
      konst('o = {}; o.self = o', () => {
        const o = {};
        o.self = o;
        return o;
      }),
    ],
    [
      1,
      konst('[good row, a = [a]]', () => {
        const a = [];
        a.push(a);
        return [good.slice(), a];
      }),
    ],
  );

  // ---- functions (callbacks) ------------------------------------------------------------------------
  const callbackKinds = [
    'throws',
    'throws',
    'rejects',
    'rejects',
    'returns a number',
    'returns an object',
    'returns a resolved Promise',
    'returns a thenable whose then throws',
    'is an async function that resolves',
    'is a Proxy whose apply trap throws',
    'is a bound function that throws',
    'is a generator function',
    ...(env.reenter ? ['calls the model back, then throws'] : []),
  ];
  /** A function of one of `callbackKinds`: its throws and rejections are sentinels recorded in mk. */
  function makeCallback(kind, mk) {
    const record = { field: mk.field, kind, called: 0, threw: 0 };
    mk.callbacks.push(record);
    const s = mk.sentinel(mk.field ?? `argument ${mk.arg}`);
    const rejected = () => {
      const p = Promise.reject(s);
      p.catch(() => {}); // handled here too: an implementation that drops it leaves no unhandled rejection
      return p;
    };
    switch (kind) {
      case 'throws':
        return function onProgress() {
          record.called++;
          record.threw++;
          throw s;
        };
      case 'rejects':
        return function onProgress() {
          record.called++;
          record.threw++;
          return rejected();
        };
      case 'returns a number':
        return () => {
          record.called++;
          return 42;
        };
      case 'returns an object':
        return () => {
          record.called++;
          return { then: 1, done: true };
        };
      case 'returns a resolved Promise':
        return () => {
          record.called++;
          return Promise.resolve(Symbol('garbage'));
        };
      case 'returns a thenable whose then throws':
        return () => {
          record.called++;
          return {
            get then() {
              throw s;
            },
          };
        };
      case 'is an async function that resolves':
        return async () => {
          record.called++;
        };
      case 'is a Proxy whose apply trap throws':
        return new Proxy(function target() {}, {
          apply() {
            record.called++;
            record.threw++;
            throw s;
          },
        });
      case 'is a bound function that throws':
        return function bound() {
          record.called++;
          record.threw++;
          throw s;
        }.bind(null);
      case 'is a generator function':
        return function* gen() {
          record.called++;
          yield s;
        };
      case 'calls the model back, then throws':
        return function reenter() {
          record.called++;
          record.threw++;
          try {
            const r = env.reenter();
            mk.inner.push({ ok: true, value: r });
            if (r && typeof r.then === 'function')
              r.then(
                value => mk.inner.push({ ok: true, value }),
                error => mk.inner.push({ ok: false, error }),
              );
          } catch (error) {
            mk.inner.push({ ok: false, error });
          }
          throw s;
        };
      default:
        throw new Error(`unknown callback kind ${kind}`);
    }
  }
  const callback = fc
    .constantFrom(...callbackKinds)
    .map(kind => spec(`a callback that ${kind}`, mk => makeCallback(kind, mk), { callback: kind }));

  // ---- all of it, and nested ---------------------------------------------------------------------
  const leaf = weighted(
    [8, primitive],
    [3, typedArray],
    [2, detached],
    [2, buffers],
    [1, huge],
    [2, sparse],
    [3, throwingArrays],
    [3, proxies],
    [3, coercers],
    [1, frozen],
    [1, cyclic],
    [2, callback],
  );
  const arrayOf = (items, what = 'an array') =>
    items.map(specs => spec(`${what} [${specs.map(s => s.desc).join(', ')}]`, mk => specs.map(s => s.make(mk))));
  const objectOf = entries =>
    entries.map(pairs =>
      spec(`{ ${pairs.map(([k, s]) => `${JSON.stringify(k)}: ${s.desc}`).join(', ')} }`, mk => {
        const o = {};
        for (const [k, s] of pairs) {
          mk.field = k;
          Object.defineProperty(o, k, { value: s.make(mk), enumerable: true, configurable: true, writable: true });
        }
        mk.field = null;
        return o;
      }),
    );
  const keys = fc.constantFrom(
    'X',
    'chunkSize',
    'onProgress',
    'labelColumn',
    'length',
    '0',
    'name',
    'inputs',
    'then',
    'constructor',
    '__proto__',
    'toJSON',
  );
  const nested = weighted(
    [3, arrayOf(fc.array(leaf, { maxLength: 4 }))],
    [1, arrayOf(fc.array(arrayOf(fc.array(leaf, { maxLength: 3 })), { maxLength: 3 }), 'an array of arrays')],
    [2, objectOf(fc.array(fc.tuple(keys, leaf), { maxLength: 3 }))],
  );
  const any = weighted([6, leaf], [1, nested]);

  /** `any` without the numbers `ok(n)` accepts (for options whose valid values would be slow: runs, maxWaitMs). */
  const anyBut = ok => any.filter(s => !(s.isPrim && typeof s.prim === 'number' && ok(s.prim)));
  const nonString = any.filter(s => !(s.isPrim && typeof s.prim === 'string'));

  // ---- rows -------------------------------------------------------------------------------------
  const goodCase = fc.nat(goodRows.length - 1);
  const GOOD_FORMS = [
    'Float32Array',
    'Array',
    'Float64Array',
    'Uint8Array',
    'Int16Array',
    'Int32Array',
    'Uint32Array',
    'Uint8ClampedArray',
    'subarray',
    ...(shared ? ['shared'] : []),
  ];
  function goodRowOf(form, input) {
    switch (form) {
      case 'Array':
        return input.slice();
      case 'subarray': {
        const big = new Float32Array(80);
        big.set(input, 8);
        return big.subarray(8, 72);
      }
      case 'shared': {
        const v = new Float32Array(new SharedArrayBuffer(256));
        v.set(input);
        return v;
      }
      default:
        return globalThis[form].from(input);
    }
  }
  const goodRow = fc
    .tuple(fc.constantFrom(...GOOD_FORMS), goodCase)
    .map(([form, c]) =>
      spec(`good row #${c} as ${form}`, () => goodRowOf(form, goodRows[c].input), { goodLabel: goodRows[c].label }),
    );

  const badNumbers = [NaN, Infinity, -Infinity, 17, -1, 16.000001, -0.000001, 3.5e38, 1e-46, 2 ** 24 + 1, 1e300];
  /** A good row with one thing wrong with it: these reach deepest. */
  const nearlyGood = weighted(
    [
      4,
      fc.tuple(index, leaf).map(([i, s]) =>
        spec(`a good row whose [${i}] is ${s.desc}`, mk => {
          const a = good.slice();
          a[i] = s.make(mk);
          return a;
        }),
      ),
    ],
    [
      3,
      fc
        .tuple(index, fc.constantFrom(...badNumbers), fc.constantFrom('Float32Array', 'Float64Array', 'Array'))
        .map(([i, x, form]) =>
          spec(`a good ${form} row whose [${i}] is ${fc.stringify(x)}`, () => {
            const a = goodRowOf(form, good);
            a[i] = x;
            return a;
          }),
        ),
    ],
    [
      1,
      fc.tuple(index, fc.constantFrom(-0, 0, 16, 0.5)).map(([i, x]) =>
        spec(`a good Float32Array row whose [${i}] is ${fc.stringify(x)} (in range)`, () => {
          const a = Float32Array.from(good);
          a[i] = x;
          return a;
        }),
      ),
    ],
    [4, throwingArrays],
    [2, sparse],
    [
      2,
      fc
        .constantFrom(...TRAPS.filter(t => t !== 'apply'))
        .map(trap =>
          spec(
            `a Proxy of a good row array whose ${trap} trap throws`,
            mk => new Proxy(good.slice(), throwingHandler(trap, mk)),
          ),
        ),
    ],
    [
      1,
      konst('a revoked Proxy of a good row array', mk => {
        mk.engineThrows = true;
        const { proxy, revoke } = Proxy.revocable(good.slice(), {});
        revoke();
        return proxy;
      }),
    ],
    [
      1,
      konst('a detached good Float32Array', () => {
        const a = Float32Array.from(good);
        detach(a.buffer);
        return a;
      }),
    ],
    [1, buffers],
    [1, konst('a frozen good row array', () => Object.freeze(good.slice()))],
    [1, konst('a good row with a 65th value', () => [...good, 0])],
    [1, konst('[good row] (nested one level)', () => [good.slice()])],
    [1, konst('a good row of strings', () => good.map(String))],
    [1, konst('a good row of bigints', () => good.map(x => BigInt(x)))],
    [1, konst('a good row of Number objects', () => good.map(x => new Number(x)))],
    [1, konst('a good row as a BigInt64Array', () => BigInt64Array.from(good, x => BigInt(x)))],
    [1, konst('a good row as a DataView', () => new DataView(Float32Array.from(good).buffer))],
    [1, konst('a good row as an ArrayBuffer', () => Float32Array.from(good).buffer)],
    [1, konst('an arguments-like { 0..63, length: 64 }', () => Object.assign({ length: 64 }, good))],
    [1, konst('a Set of a good row', () => new Set(good))],
  );
  const row = weighted([3, goodRow], [5, nearlyGood], [3, any]);

  // ---- batches ----------------------------------------------------------------------------------
  const flat = (n, r = 0) => {
    const a = new Float32Array(n * 64 + r);
    for (let i = 0; i < a.length; i++) a[i] = goodRows[Math.floor(i / 64) % goodRows.length].input[i % 64];
    return a;
  };
  const batch = weighted(
    [
      3,
      fc
        .tuple(fc.nat(8), fc.constantFrom(0, 0, 0, 1, 63))
        .map(([n, r]) => spec(`a flat Float32Array of ${n} good rows${r ? ` and ${r} values` : ''}`, () => flat(n, r))),
    ],
    [1, fc.nat(4).map(n => spec(`a flat array of ${n} good rows' numbers`, () => Array.from(flat(n))))],
    [5, arrayOf(fc.array(weighted([3, goodRow], [2, nearlyGood], [1, any]), { maxLength: 5 }), 'rows')],
    [
      1,
      fc.tuple(fc.nat(3), fc.nat(3)).map(([n, i]) =>
        spec(`${n + 1} good rows whose [${Math.min(i, n)}] getter throws`, mk =>
          withGetter(
            Array.from({ length: n + 1 }, () => good.slice()),
            Math.min(i, n),
            mk,
            `the getter of rows[${Math.min(i, n)}]`,
          ),
        ),
      ),
    ],
    [
      1,
      fc
        .constantFrom(...TRAPS.filter(t => t !== 'apply'))
        .map(trap =>
          spec(
            `a Proxy of 3 good rows whose ${trap} trap throws`,
            mk => new Proxy([good.slice(), good.slice(), good.slice()], throwingHandler(trap, mk)),
          ),
        ),
    ],
    [2, huge],
    [1, typedArray],
    [1, detached],
    [2, any],
  );

  // ---- CSV --------------------------------------------------------------------------------------
  const csv = env.csv ?? 'p0\n0';
  const csvLines = csv.trim().split('\n');
  const cell = weighted(
    [
      3,
      fc.constantFrom(
        '',
        'NaN',
        '1e999',
        '-0',
        '0x10',
        ' 5',
        '"5"',
        '5;',
        '17',
        '-1',
        '∞',
        '\uD800',
        '1,5',
        '"',
        '\r',
        'label',
      ),
    ],
    [1, stringValue],
  );
  const csvText = weighted(
    [
      3,
      fc.nat(csvLines.length - 1).map(n =>
        spec(`the CSV's header and ${n} rows`, () => csvLines.slice(0, n + 1).join('\n'), {
          isPrim: true,
          prim: 'csv',
        }),
      ),
    ],
    [
      4,
      fc.tuple(fc.nat(csvLines.length - 1), fc.nat(65), cell).map(([l, c, v]) =>
        spec(
          `the CSV with line ${l + 1}, cell ${c} = ${JSON.stringify(v)}`,
          () => {
            const lines = csvLines.map(x => x.split(','));
            if (c < lines[l].length) lines[l][c] = v;
            else lines[l].push(v);
            return lines.map(x => x.join(',')).join('\n');
          },
          { isPrim: true, prim: 'csv' },
        ),
      ),
    ],
    [
      2,
      fc
        .constantFrom(
          'BOM',
          'CRLF',
          'CR',
          'blank lines',
          'no header',
          'header only',
          'empty',
          'a column less',
          'a column more',
          'NUL',
        )
        .map(what =>
          spec(
            `the CSV with ${what}`,
            () => {
              switch (what) {
                case 'BOM':
                  return `\uFEFF${csv}`;
                case 'CRLF':
                  return csv.replaceAll('\n', '\r\n');
                case 'CR':
                  return csv.replaceAll('\n', '\r');
                case 'blank lines':
                  return csv.replaceAll('\n', '\n\n');
                case 'no header':
                  return csvLines.slice(1).join('\n');
                case 'header only':
                  return csvLines[0];
                case 'empty':
                  return '';
                case 'a column less':
                  return csvLines.map(x => x.split(',').slice(1).join(',')).join('\n');
                case 'a column more':
                  return csvLines.map(x => `${x},0`).join('\n');
                default:
                  return csv.replace(',', ',\0');
              }
            },
            { isPrim: true, prim: 'csv' },
          ),
        ),
    ],
    [2, string],
    [3, nonString],
  );

  // ---- options objects --------------------------------------------------------------------------
  /**
   * Options objects of the given fields ({ name: Arbitrary<Spec> of good values }); `hostile`
   * may give a field its own arbitrary of wrong values (default: any).
   */
  function options(fields, hostile = {}) {
    const names = Object.keys(fields);
    const mixed = fc
      .record(Object.fromEntries(names.map(k => [k, weighted([3, fields[k]], [1, hostile[k] ?? any])])), {
        requiredKeys: [],
      })
      .map(o => Object.entries(o));
    const build = (pairs, mk, into = {}) => {
      for (const [k, s] of pairs) {
        mk.field = k;
        into[k] = s.make(mk);
      }
      mk.field = null;
      return into;
    };
    const show = pairs => `{ ${pairs.map(([k, s]) => `${k}: ${s.desc}`).join(', ')} }`;
    return weighted(
      [8, mixed.map(pairs => spec(show(pairs), mk => build(pairs, mk)))],
      [3, any],
      [
        1,
        fc.tuple(mixed, fc.constantFrom(...names)).map(([pairs, k]) =>
          spec(`${show(pairs)} whose ${k} getter throws`, mk => {
            const o = build(pairs, mk);
            const fail = mk.failing(`the ${k} getter`);
            return Object.defineProperty(o, k, { get: fail, enumerable: true, configurable: true });
          }),
        ),
      ],
      [
        1,
        fc
          .tuple(mixed, fc.constantFrom(...TRAPS.filter(t => t !== 'apply')))
          .map(([pairs, trap]) =>
            spec(
              `a Proxy of ${show(pairs)} whose ${trap} trap throws`,
              mk => new Proxy(build(pairs, mk), throwingHandler(trap, mk)),
            ),
          ),
      ],
      [
        1,
        mixed.map(pairs =>
          spec(`a revoked Proxy of ${show(pairs)}`, mk => {
            mk.engineThrows = true;
            const { proxy, revoke } = Proxy.revocable(build(pairs, mk), {});
            revoke();
            return proxy;
          }),
        ),
      ],
      [
        1,
        fc.tuple(mixed, fc.constantFrom('frozen', 'null prototype', 'inherited', 'class getters')).map(([pairs, how]) =>
          spec(`${show(pairs)} (${how})`, mk => {
            if (how === 'frozen') return Object.freeze(build(pairs, mk));
            if (how === 'null prototype') return build(pairs, mk, Object.create(null));
            if (how === 'inherited') return Object.create(build(pairs, mk));
            const values = build(pairs, mk);
            class FuzzOptions {}
            for (const k of Object.keys(values))
              Object.defineProperty(FuzzOptions.prototype, k, { get: () => values[k] });
            return new FuzzOptions();
          }),
        ),
      ],
    );
  }

  const int = (min, max) => fc.integer({ min, max }).map(n => prim(n));
  const fieldValues = {
    chunkSize: weighted([4, int(1, 300)], [1, fc.constantFrom(65536, 1).map(n => prim(n))]),
    onProgress: callback,
    labelColumn: fc.constantFrom('label', 'label', 64, 0, 'p3', 'truth', 65, -1, 1.5).map(v => prim(v)),
    maxBatch: int(1, 8),
    maxWaitMs: int(0, 3),
    inFlight: int(1, 16),
    runs: int(1, 3),
    budgetMs: fc.double({ min: 0.0001, max: 100, noNaN: true }).map(n => prim(n)),
    percentile: fc.double({ min: 0, max: 100, noNaN: true }).map(n => prim(n)),
    transfer: fc.boolean().map(b => prim(b)),
    sha256: fc
      .constantFrom(
        env.onnxSha256 ?? '0'.repeat(64),
        (env.onnxSha256 ?? '0'.repeat(64)).toUpperCase(),
        '0'.repeat(64),
        'abc',
      )
      .map(s => prim(s)),
  };
  // Valid values that are slow (a benchmark of 100,000 runs; a 60 s micro-batch wait) stay out.
  const slowFree = {
    runs: anyBut(n => Number.isInteger(n) && n > 3 && n <= 100_000),
    maxWaitMs: anyBut(n => n > 5 && n <= 60_000),
  };

  // ---- manifests --------------------------------------------------------------------------------
  const baseManifest = env.manifest ?? { name: 'x' };
  const PATHS = [
    ['name'],
    ['version'],
    ['description'],
    ['task'],
    ['inputs'],
    ['inputs', 0],
    ['inputs', 0, 'name'],
    ['inputs', 0, 'dtype'],
    ['inputs', 0, 'shape'],
    ['inputs', 0, 'shape', 0],
    ['inputs', 0, 'shape', 1],
    ['outputs'],
    ['outputs', 0, 'role'],
    ['outputs', 1, 'shape'],
    ['labels'],
    ['labels', 3],
    ['preprocessing'],
    ['preprocessing', 'type'],
    ['preprocessing', 'range'],
    ['preprocessing', 'scale'],
    ['metrics'],
    ['metrics', 'accuracy'],
    ['sha256'],
    ['default'],
    ['limits'],
    ['limits', 'maxBatchRows'],
    ['nnef'],
    ['rows'],
    ['training'],
  ];
  const parentOf = (m, path) => path.slice(0, -1).reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), m);
  const showPath = path => path.map(k => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
  const goodManifest = () => structuredClone(baseManifest);
  const manifest = weighted(
    [2, konst('the good manifest', goodManifest)],
    [
      6,
      fc.tuple(fc.constantFrom(...PATHS), any).map(([path, s]) =>
        spec(`the manifest with ${showPath(path)} = ${s.desc}`, mk => {
          const m = goodManifest();
          const parent = parentOf(m, path);
          if (parent && typeof parent === 'object') {
            mk.field = `manifest${showPath(path)}`;
            parent[path.at(-1)] = s.make(mk);
            mk.field = null;
          }
          return m;
        }),
      ),
    ],
    [
      1,
      fc.constantFrom(...PATHS).map(path =>
        spec(`the manifest without ${showPath(path)}`, () => {
          const m = goodManifest();
          const parent = parentOf(m, path);
          if (parent && typeof parent === 'object') delete parent[path.at(-1)];
          return m;
        }),
      ),
    ],
    [
      2,
      fc.constantFrom(...PATHS).map(path =>
        spec(`the manifest whose ${showPath(path)} getter throws`, mk => {
          const m = goodManifest();
          const parent = parentOf(m, path);
          const fail = mk.failing(`the manifest${showPath(path)} getter`);
          if (parent && typeof parent === 'object')
            Object.defineProperty(parent, path.at(-1), { get: fail, enumerable: true, configurable: true });
          return m;
        }),
      ),
    ],
    [
      1,
      fc
        .constantFrom(
          'm.self = m',
          'm.inputs[0].self = m',
          'm.inputs.push(m.inputs)',
          'm.preprocessing.range = m.preprocessing',
        )
        .map(how =>
          spec(`a cyclic manifest (${how})`, () => {
            const m = goodManifest();
            if (how === 'm.self = m') m.self = m;
            else if (how === 'm.inputs[0].self = m') m.inputs[0].self = m;
            else if (how === 'm.inputs.push(m.inputs)') m.inputs.push(m.inputs);
            else m.preprocessing.range = m.preprocessing;
            return m;
          }),
        ),
    ],
    [
      1,
      fc.constantFrom(['version'], ['inputs', 0, 'shape', 1], ['limits', 'maxBatchRows'], ['training']).map(path =>
        spec(`the manifest with ${showPath(path)} = 64n`, () => {
          const m = goodManifest();
          const parent = parentOf(m, path);
          if (parent && typeof parent === 'object') parent[path.at(-1)] = 64n;
          return m;
        }),
      ),
    ],
    [
      1,
      konst('the manifest whose toJSON throws', mk =>
        Object.assign(goodManifest(), { toJSON: coercion('toJSON')(mk) }),
      ),
    ],
    [
      1,
      konst('the manifest whose toJSON returns another manifest', () =>
        Object.assign(goodManifest(), { toJSON: () => ({ name: 'other' }) }),
      ),
    ],
    [1, proxyOf('the good manifest', goodManifest)],
    [1, konst('the good manifest, deep-frozen', () => deepFreeze(goodManifest()))],
    [3, any],
  );

  // ---- model bytes --------------------------------------------------------------------------------
  const onnx = env.onnx ?? new Uint8Array(0);
  const bytes = weighted(
    [3, konst('the ONNX bytes (Uint8Array)', () => onnx.slice(), { goodBytes: true })],
    [1, konst('the ONNX bytes (ArrayBuffer)', () => onnx.slice().buffer, { goodBytes: true })],
    [
      1,
      konst(
        'the ONNX bytes as a subarray at offset 16',
        () => {
          const b = new Uint8Array(onnx.length + 32);
          b.set(onnx, 16);
          return b.subarray(16, 16 + onnx.length);
        },
        { goodBytes: true },
      ),
    ],
    ...(shared
      ? [
          [
            1,
            konst('the ONNX bytes on a SharedArrayBuffer', () => {
              const b = new Uint8Array(new SharedArrayBuffer(onnx.length));
              b.set(onnx);
              return b;
            }),
          ],
        ]
      : []),
    [1, konst('the ONNX bytes as an Int8Array', () => new Int8Array(onnx.slice().buffer))],
    [1, konst('the ONNX bytes as a DataView', () => new DataView(onnx.slice().buffer))],
    [1, konst('the ONNX bytes as an array of numbers', () => Array.from(onnx))],
    [
      1,
      fc
        .constantFrom(0, 1, 2, 3)
        .map(q => spec(`the ONNX bytes cut to ${q}/4`, () => onnx.slice(0, Math.floor((onnx.length * q) / 4)))),
    ],
    [1, konst('the ONNX bytes less the last one', () => onnx.slice(0, -1))],
    [1, konst('bytes of "<!doctype html>"', () => new TextEncoder().encode('<!doctype html><title>404</title>'))],
    [
      1,
      konst('detached ONNX bytes', () => {
        const b = onnx.slice();
        detach(b.buffer);
        return b;
      }),
    ],
    ...(canResize
      ? [
          [
            1,
            konst('the ONNX bytes on a resizable buffer that then shrank to half', mk => {
              mk.engineThrows = true; // reading it throws the engine's own TypeError
              const buf = new ArrayBuffer(onnx.length, { maxByteLength: onnx.length * 2 });
              const b = new Uint8Array(buf, 0, onnx.length);
              b.set(onnx);
              buf.resize(onnx.length >> 1);
              return b;
            }),
          ],
        ]
      : []),
    [
      1,
      fc.constantFrom('length', 'buffer', 'byteOffset', 'byteLength').map(p =>
        spec(`the ONNX bytes whose own ${p} getter throws`, mk => {
          const fail = mk.failing(`the bytes' ${p} getter`);
          return Object.defineProperty(onnx.slice(), p, { get: fail });
        }),
      ),
    ],
    [1, huge],
    [4, any],
  );

  // ---- names, URLs, run() inputs ------------------------------------------------------------------
  const modelName = weighted(
    [3, fc.constantFrom('digits-accurate', 'digits-fast').map(s => prim(s))],
    [2, string],
    [4, nonString],
  );
  const engineName = weighted([3, fc.constantFrom('rows', 'tract').map(s => prim(s))], [2, string], [4, nonString]);
  const urls = env.urls?.length ? env.urls : ['http://127.0.0.1:9/x.onnx'];
  const url = weighted([3, fc.constantFrom(...urls).map(u => prim(u))], [4, nonString]);
  const inputName = env.inputName ?? 'X';
  const runInputs = weighted(
    [
      3,
      row.map(s =>
        spec(`{ ${inputName}: ${s.desc} }`, mk => ({ [inputName]: s.make(mk) }), { goodLabel: s.goodLabel }),
      ),
    ],
    [
      1,
      fc
        .nat(4)
        .map(n => spec(`{ ${inputName}: a flat Float32Array of ${n} good rows }`, () => ({ [inputName]: flat(n) }))),
    ],
    [
      1,
      fc.tuple(fc.constantFrom('extra', 'Y', '', '__proto__'), any).map(([k, s]) =>
        spec(`{ ${inputName}: good, ${JSON.stringify(k)}: ${s.desc} }`, mk => {
          const o = { [inputName]: Float32Array.from(good) };
          Object.defineProperty(o, k, { value: s.make(mk), enumerable: true, configurable: true, writable: true });
          return o;
        }),
      ),
    ],
    [1, options({ [inputName]: goodRow })],
    [2, any],
  );
  const shapes = weighted(
    [
      2,
      fc
        .constantFrom([1, 64], [2, 32], [64], [1, 1, 64], [0, 64], [-1, 64], [2 ** 31, 64], [1.5, 64], [NaN])
        .map(s => spec(`{ ${inputName}: ${JSON.stringify(s)} }`, () => ({ [inputName]: s.slice() }))),
    ],
    [1, any.map(s => spec(`{ ${inputName}: ${s.desc} }`, mk => ({ [inputName]: s.make(mk) })))],
    [1, any],
  );

  return {
    spec,
    make: (s, mk) => s.make(mk),
    primitive,
    number,
    string,
    bigint,
    symbol,
    nonString,
    typedArray,
    detached,
    buffers,
    huge,
    sparse,
    throwingArrays,
    proxies,
    coercers,
    frozen,
    cyclic,
    callback,
    nested,
    leaf,
    any,
    anyBut,
    goodRow,
    nearlyGood,
    row,
    batch,
    csvText,
    options,
    fieldValues,
    slowFree,
    manifest,
    bytes,
    modelName,
    engineName,
    url,
    runInputs,
    shapes,
  };
}
