// One cold start of reading text in a fresh Chromium page (bench/ocr-bytes.mjs opens it in a new
// browser context each time, so nothing is cached): from the navigation's start to the first
// readText() result, fetching everything from the server as a page does. The query says which
// way (`way=shipped`: pkg/, the full build, the package's graphs fetched by Model.load('ocr');
// `way=lean`: target/ocr-bytes/lean, ocr compiled in) and which image of `make models-ocr`
// (`image`: a path to its .rgb, `width`, `height`).
const query = new URLSearchParams(location.search);
const lean = query.get('way') === 'lean';

async function run() {
  const { default: init, Model } = await import(lean ? '../target/ocr-bytes/lean/edgeserve.js' : '../pkg/index.js');
  await init();
  const model = await Model.load('ocr');
  const res = await fetch(`../${query.get('image')}`);
  if (!res.ok) throw new Error(`${query.get('image')}: HTTP ${res.status}`);
  const data = new Uint8Array(await res.arrayBuffer());
  const reading = model.readText({
    data,
    width: Number(query.get('width')),
    height: Number(query.get('height')),
    channels: 3,
  });
  return { firstMs: performance.now(), texts: reading.lines.map(l => l.text) };
}

run().then(
  result => (document.body.dataset.result = JSON.stringify(result)),
  e => (document.body.dataset.result = JSON.stringify({ error: String(e?.stack ?? e) })),
);
