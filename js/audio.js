// Audio from the Web Audio API into a voice-activity model: only what must be JavaScript. The
// resampling, framing, model state and speech decoding are the core's (model.session() in
// src/wasm/audio.rs); this wires a MediaStream to a session through an AudioWorklet
// (audio-worklet.js, a module file beside this one) and decodes compressed files with the
// browser's decodeAudioData.

/** An Error with edgeserve's `code`. */
function coded(code, message, cause) {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
}

/** The options of listen() that are not the session's. */
const OWN = new Set(['context', 'blockMs', 'onStep', 'onError', 'workletUrl']);

/** The time stop() waits for the worklet's last samples before it finishes without them, in ms. */
const STOP_WAIT_MS = 1000;

/**
 * Listens to a MediaStream (a microphone from getUserMedia, a call) with a voice-activity model:
 * its first audio track, downmixed to one channel, goes through an AudioWorklet to a session of
 * `model` (`model.session({ sampleRate: context.sampleRate, ...settings })`), which resamples
 * it, runs the model frame by frame with its state carried over, and finds speech starts and
 * ends. `options.onStep(step)` gets each block's AudioStep (`{ probabilities, firstFrame, events,
 * inSpeech, latencyMs }`) on the main thread; `options.onError(error)` an error of a block (the
 * session goes on; default: console.error).
 *
 * Options: `context`, an AudioContext of the caller's (default: a new one, closed by stop());
 * `blockMs`, the audio the worklet gathers before posting it (default 32 ms; at least one render
 * quantum of 128 samples); `workletUrl`, where audio-worklet.js is served when a bundler did not
 * copy it beside this file; and the voice-activity settings of model.session().
 *
 * Resolves to `{ session, context, sampleRate, stop() }`; `stop()` ends it (the samples still in
 * the worklet are run, then the session's last frame) and resolves to that last AudioStep. The
 * stream's tracks are the caller's: stop() does not stop them. Rejects with code BAD_INPUT when
 * `stream` has no audio track or the options are wrong, with the worklet's error when it cannot
 * load (a missing file, a CSP that forbids it).
 */
export async function listen(model, stream, options = {}) {
  const tracks = typeof stream?.getAudioTracks === 'function' ? stream.getAudioTracks() : null;
  if (!tracks) throw coded('BAD_INPUT', 'listen(): stream is not a MediaStream (from getUserMedia, say)');
  if (tracks.length === 0) throw coded('BAD_INPUT', 'listen(): the MediaStream has no audio track');
  if (options === null || typeof options !== 'object') throw coded('BAD_INPUT', 'listen(): options are not an object');
  const { onStep, onError = e => console.error(e), blockMs = 32 } = options;
  if (onStep !== undefined && typeof onStep !== 'function')
    throw coded('BAD_INPUT', 'listen(): onStep is not a function');
  if (typeof onError !== 'function') throw coded('BAD_INPUT', 'listen(): onError is not a function');
  if (typeof blockMs !== 'number' || !(blockMs > 0 && blockMs <= 10000)) {
    throw coded('BAD_INPUT', `listen(): blockMs is out of range: expected a number from 0 to 10000 ms, got ${blockMs}`);
  }
  const AudioContextClass = globalThis.AudioContext;
  if (!options.context && !AudioContextClass) {
    throw coded('BAD_INPUT', 'listen() needs the Web Audio API (AudioContext, AudioWorklet): a browser');
  }
  const context = options.context ?? new AudioContextClass();
  const ours = !options.context;
  const settings = Object.fromEntries(Object.entries(options).filter(([k]) => !OWN.has(k)));
  let session = null;
  let source = null;
  let node = null;
  try {
    session = model.session({ ...settings, sampleRate: context.sampleRate });
    await context.audioWorklet.addModule(options.workletUrl ?? new URL('./audio-worklet.js', import.meta.url));
    const blockSize = Math.max(128, Math.round((context.sampleRate * blockMs) / 1000));
    node = new AudioWorkletNode(context, 'edgeserve-capture', {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      channelCount: 1,
      channelCountMode: 'explicit',
      channelInterpretation: 'speakers',
      processorOptions: { blockSize },
    });
    source = context.createMediaStreamSource(stream);
    source.connect(node);
    node.connect(context.destination); // silence: the node is pulled as long as it is connected
    if (context.state === 'suspended') await context.resume();
  } catch (e) {
    source?.disconnect();
    node?.disconnect();
    session?.free();
    if (ours) await context.close().catch(() => {});
    throw e;
  }

  let stopped = null;
  let whenStopped = null;
  node.port.onmessage = e => {
    if (e.data === 'stopped') {
      whenStopped?.();
      return;
    }
    if (stopped && !whenStopped) return;
    try {
      const step = session.push(e.data);
      onStep?.(step);
    } catch (error) {
      onError(error);
    }
  };

  const stop = () => {
    stopped ??= (async () => {
      await new Promise(resolve => {
        whenStopped = resolve;
        setTimeout(resolve, STOP_WAIT_MS);
        node.port.postMessage('stop');
      });
      whenStopped = null;
      source.disconnect();
      node.disconnect();
      node.port.onmessage = null;
      node.port.close();
      try {
        return session.finish();
      } finally {
        session.free();
        if (ours) await context.close().catch(() => {});
      }
    })();
    return stopped;
  };
  return { session, context, sampleRate: context.sampleRate, stop };
}

/**
 * Decodes a compressed audio file (whatever the browser reads: WAV, MP3, Ogg Vorbis or Opus,
 * FLAC, AAC...) with Web Audio's decodeAudioData, into an AudioBuffer at `sampleRate` Hz
 * (default 48000; the browser resamples to it) for `model.speechSegments(buffer)`. WAV files
 * need no decoding: speechSegments reads their bytes itself, in Node too. The caller's bytes are
 * copied, not detached. Rejects with code BAD_INPUT for bytes that do not decode, or where there
 * is no Web Audio (Node).
 */
export async function decodeAudio(bytes, sampleRate = 48000) {
  const Offline = globalThis.OfflineAudioContext;
  if (!Offline) throw coded('BAD_INPUT', 'decodeAudio() needs the Web Audio API (OfflineAudioContext): a browser');
  let copy;
  if (bytes instanceof ArrayBuffer) copy = bytes.slice(0);
  else if (ArrayBuffer.isView(bytes))
    copy = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice().buffer;
  else throw coded('BAD_INPUT', 'decodeAudio(): bytes is not an ArrayBuffer or a Uint8Array');
  let context;
  try {
    context = new Offline(1, 1, sampleRate);
  } catch (e) {
    throw coded(
      'BAD_INPUT',
      `decodeAudio(): sampleRate ${sampleRate} is not one Web Audio takes (3000 to 768000 Hz)`,
      e,
    );
  }
  try {
    return await context.decodeAudioData(copy);
  } catch (e) {
    throw coded('BAD_INPUT', `decodeAudio(): the bytes are not audio this browser decodes (${e?.message ?? e})`, e);
  }
}
