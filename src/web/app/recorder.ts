/**
 * Speech task capture: microphone samples through WebAudio, encoded in the page as 16-bit PCM
 * WAV with the project's own encodeWav16 (the server checks the WAV header and data chunk; a
 * MediaRecorder webm/opus file would not pass and would need decoding on the server).
 */
import { encodeWav16 } from '../../signal/wav.js';

export interface Recording { wav: Uint8Array; samples: Float32Array; sampleRate: number; seconds: number }

export class SpeechRecorder {
  private ctx?: AudioContext;
  private stream?: MediaStream;
  private node?: ScriptProcessorNode;
  private chunks: Float32Array[] = [];

  async start(): Promise<void> {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    this.ctx = new AudioContext();
    const src = this.ctx.createMediaStreamSource(this.stream);
    // ScriptProcessor is deprecated but needs no separate worklet file and runs everywhere.
    this.node = this.ctx.createScriptProcessor(4096, 1, 1);
    this.chunks = [];
    this.node.onaudioprocess = (e) => { this.chunks.push(new Float32Array(e.inputBuffer.getChannelData(0))); };
    src.connect(this.node);
    this.node.connect(this.ctx.destination);
  }

  async stop(): Promise<Recording> {
    const sampleRate = this.ctx?.sampleRate ?? 48_000;
    this.node?.disconnect();
    this.stream?.getTracks().forEach((t) => t.stop());
    await this.ctx?.close();
    const n = this.chunks.reduce((s, c) => s + c.length, 0);
    const samples = new Float32Array(n);
    let o = 0;
    for (const c of this.chunks) { samples.set(c, o); o += c.length; }
    this.chunks = [];
    return { wav: encodeWav16(samples, sampleRate), samples, sampleRate, seconds: n / sampleRate };
  }
}
