import type { AudioSession, AudioStep, Model, VoiceActivitySettings } from './edgeserve.js';

/** listen() options: its own, and the voice-activity settings of model.session(). */
export interface ListenOptions extends VoiceActivitySettings {
  /** An AudioContext of the caller's (default: a new one, closed by stop()). Its rate is the session's. */
  context?: AudioContext;
  /** Audio the worklet gathers before posting it to the main thread, in ms (default 32; at least 128 samples). */
  blockMs?: number;
  /** Each block's result, on the main thread. */
  onStep?: (step: AudioStep) => void;
  /** An error of one block (the session goes on). Default: console.error. */
  onError?: (error: Error & { code?: string }) => void;
  /** Where audio-worklet.js is served, when a bundler did not copy it beside the package's files. */
  workletUrl?: string | URL;
}

/** A MediaStream being listened to. */
export interface Listener {
  /** The session the audio goes to (its state, frames, sampleRate). */
  readonly session: AudioSession;
  readonly context: AudioContext;
  /** The rate of the captured audio, in Hz (the context's). */
  readonly sampleRate: number;
  /** Ends listening: the samples still in the worklet and the session's last frame are run; resolves to that last step. */
  stop(): Promise<AudioStep>;
}

/**
 * Listens to a MediaStream (a microphone) with a voice-activity model, through an AudioWorklet
 * (audio-worklet.js, shipped beside this file): `onStep` gets each block's speech probabilities
 * and speech start and end events.
 */
export function listen(model: Model, stream: MediaStream, options?: ListenOptions): Promise<Listener>;

/**
 * Decodes a compressed audio file (MP3, Ogg, FLAC, WAV, ...: what the browser reads) into an
 * AudioBuffer at `sampleRate` Hz (default 48000) for model.speechSegments(). Browser only.
 */
export function decodeAudio(bytes: ArrayBuffer | Uint8Array, sampleRate?: number): Promise<AudioBuffer>;
