// Search panel: semantic search over the sentences shipped with the page (data/sentences.json).
// On demand (the button), the page fetches the full build of edgeserve (pkg-full/: the ONNX
// parser and the tokenizer, which the lean build of the other panels has not) and starts a
// WorkerModel of the text package minilm-int8, by name: the package ships it beside its wasm
// (pkg-full/models/minilm-int8/) and the worker fetches it. Then it embeds every sentence in the
// worker, with a progress bar, and each keystroke embeds the query and ranks the sentences by
// cosine similarity (the vectors are unit length: a dot product). The service worker keeps the
// build and edgeserve caches the model, so search works offline after its first use.
import { running, threads } from './threads.js';

const $ = id => document.getElementById(id);
const MODEL = 'minilm-int8';
const CHUNK = 16;
const TOP = 5;

async function fetched(url, as) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response[as]();
}

export function setupSearch() {
  const start = $('search-start');
  const input = $('search-query');
  const progress = $('search-progress');
  const status = $('search-status');
  const results = $('search-results');
  let model = null;
  let sentences = [];
  let vectors = null;
  let dim = 0;
  let asked = 0; // the newest query's number: an older answer is dropped
  let busy = false;
  let again = false;

  function show(query, answer, ms) {
    const scores = sentences.map((_, i) => {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += answer[k] * vectors[i * dim + k];
      return [dot, i];
    });
    scores.sort((a, b) => b[0] - a[0]);
    results.replaceChildren(
      ...scores.slice(0, TOP).map(([score, i]) => {
        const li = document.createElement('li');
        li.textContent = sentences[i];
        li.append(
          Object.assign(document.createElement('span'), { className: 'score', textContent: ` ${score.toFixed(3)}` }),
        );
        return li;
      }),
    );
    $('search-latency').textContent = `${ms.toFixed(1)} ms in the model, ${query.length} characters`;
    document.body.dataset.searches = String(Number(document.body.dataset.searches ?? 0) + 1);
  }

  async function search() {
    if (busy) {
      again = true; // one more run after this one, with the newest text
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const query = input.value;
        const mine = ++asked;
        if (!query.trim()) {
          results.replaceChildren();
          continue;
        }
        const { data, latencyMs } = await model.embed(query);
        if (mine === asked) show(query, data, latencyMs);
      } while (again);
    } catch (e) {
      status.textContent = `Search failed: ${e.message}`;
      throw e;
    } finally {
      busy = false;
    }
  }

  async function load() {
    start.disabled = true;
    status.textContent = 'Downloading the model into a Web Worker (33 MB, once)…';
    const [{ WorkerModel }, list] = await Promise.all([
      import('./pkg-full/index.js'),
      fetched('data/sentences.json', 'json'),
    ]);
    model = await WorkerModel.create({ model: MODEL, threads });
    running(threads > 1 && model.wasmBuild === 'threads' ? threads : 1, model.wasmBuild);
    sentences = list;
    progress.max = sentences.length;
    const started = performance.now();
    for (let i = 0; i < sentences.length; i += CHUNK) {
      const { data, dim: d } = await model.embed(sentences.slice(i, i + CHUNK));
      if (!vectors) {
        dim = d;
        vectors = new Float32Array(sentences.length * dim);
      }
      vectors.set(data, i * dim);
      progress.value = Math.min(i + CHUNK, sentences.length);
      status.textContent = `Embedding the sentences: ${progress.value} of ${sentences.length}`;
    }
    const seconds = (performance.now() - started) / 1000;
    status.textContent = `${sentences.length} sentences embedded in ${seconds.toFixed(1)} s by ${model.name}. Type a query.`;
    input.disabled = false;
    input.addEventListener('input', () => search().catch(() => {}));
    document.body.dataset.searchReady = '1';
    if (input.value) search().catch(() => {});
  }

  start.addEventListener('click', () =>
    load().catch(e => {
      status.textContent = `Could not start the search: ${e.message}`;
      start.disabled = false;
      throw e;
    }),
  );
}
