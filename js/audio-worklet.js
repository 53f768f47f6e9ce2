// The AudioWorklet processor of `listen()` (js/audio.js): runs on the audio rendering thread,
// takes the first input's first channel (the node downmixes to one channel) and posts it to the
// main thread in blocks of `processorOptions.blockSize` samples, each a Float32Array whose buffer
// is transferred. It writes silence to its output (connected to the destination so that the
// graph keeps pulling it). A module file of its own, loaded by URL with addModule(): no inline
// script and no blob: URL, so that it loads under a Content Security Policy of 'self'.
/* global AudioWorkletProcessor, registerProcessor */

class EdgeserveCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const size = Math.floor(options?.processorOptions?.blockSize ?? 1024);
    this.size = Number.isFinite(size) && size >= 128 ? size : 1024;
    this.block = new Float32Array(this.size);
    this.filled = 0;
    this.running = true;
    this.port.onmessage = e => {
      if (e.data === 'stop') {
        // What is buffered goes out first, then the end.
        if (this.filled > 0) this.port.postMessage(this.block.slice(0, this.filled));
        this.port.postMessage('stopped');
        this.running = false;
      }
    };
  }

  process(inputs) {
    if (!this.running) return false;
    const channel = inputs[0]?.[0];
    // No channel: the input is not connected or its track is muted or ended: nothing to post.
    if (!channel) return true;
    let at = 0;
    while (at < channel.length) {
      const n = Math.min(channel.length - at, this.size - this.filled);
      this.block.set(channel.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.size) {
        this.port.postMessage(this.block, [this.block.buffer]);
        this.block = new Float32Array(this.size);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('edgeserve-capture', EdgeserveCapture);
