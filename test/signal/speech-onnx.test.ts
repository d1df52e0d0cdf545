import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnxEmbedding } from '../../src/io/onnx-embedding.js';
import { tone } from './speech-fixtures.js';

/** Minimal protobuf writer: enough of onnx.proto for a tiny test model. */
const varint = (n: number | bigint): number[] => { let v = BigInt(n); const o: number[] = []; do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; o.push(b); } while (v); return o; };
const key = (field: number, wire: number) => varint((field << 3) | wire);
const vint = (field: number, n: number) => [...key(field, 0), ...varint(n < 0 ? BigInt.asUintN(64, BigInt(n)) : n)];
const bytes = (field: number, b: number[] | Uint8Array) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...new TextEncoder().encode(s)]);
const floatTensor = (name: string, dims: number[], vals: number[]) => [...dims.flatMap((d) => vint(1, d)), ...vint(2, 1), ...str(8, name), ...bytes(9, new Uint8Array(Float32Array.from(vals).buffer))];
const int64Tensor = (name: string, vals: number[]) => [...vint(1, vals.length), ...vint(2, 7), ...str(8, name), ...bytes(9, new Uint8Array(BigInt64Array.from(vals.map(BigInt)).buffer))];
const valueInfo = (name: string, dims: Array<number | string>) => [...str(1, name), ...bytes(2, bytes(1, [...vint(1, 1), ...bytes(2, dims.flatMap((d) => bytes(1, typeof d === 'number' ? vint(1, d) : str(2, d))))]))];
const node = (op: string, inputs: string[], outputs: string[], attrs: number[][] = []) => [...inputs.flatMap((i) => str(1, i)), ...outputs.flatMap((o) => str(2, o)), ...str(4, op), ...attrs.flatMap((a) => bytes(5, a))];

/** waveform [1, N] → reshape [N/4, 4] → MatMul W [4, 3] → ReduceMean over frames → [3]. */
function tinyModel(W: number[]): Uint8Array {
  const graph = [
    ...bytes(1, node('Reshape', ['waveform', 'shape'], ['frames'])),
    ...bytes(1, node('MatMul', ['frames', 'W'], ['proj'])),
    ...bytes(1, node('ReduceMean', ['proj'], ['embedding'], [[...str(1, 'axes'), ...vint(20, 7), ...vint(8, 0)], [...str(1, 'keepdims'), ...vint(20, 2), ...vint(3, 0)]])),
    ...str(2, 'tiny'),
    ...bytes(5, floatTensor('W', [4, 3], W)),
    ...bytes(5, int64Tensor('shape', [-1, 4])),
    ...bytes(11, valueInfo('waveform', [1, 'n'])),
    ...bytes(12, valueInfo('embedding', [3])),
  ];
  return new Uint8Array([...vint(1, 7), ...str(2, 'moodlens-test'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...vint(2, 13)])]);
}

const dir = mkdtempSync(join(tmpdir(), 'moodlens-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ONNX speech embedding (onnxruntime-node, CPU)', () => {
  const W = [0.5, -1, 2, 1, 0, -0.5, -2, 1.5, 0.25, 0.1, 0.2, 0.3];
  const model = join(dir, 'tiny.onnx');
  writeFileSync(model, tinyModel(W));

  it('loads a model the test wrote and computes what the graph says', async () => {
    const e = await onnxEmbedding(model);
    expect(e.inputName).toBe('waveform');
    const x = tone(220, 16000, 1);
    const v = await e.embed(x, 16000);
    const expected = [0, 0, 0];
    const T = x.length / 4;
    for (let t = 0; t < T; t++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expected[j] += x[4 * t + k] * W[k * 3 + j] / T;
    expect(v.length).toBe(3);
    for (let j = 0; j < 3; j++) expect(v[j]).toBeCloseTo(expected[j], 5);
    // another rate is resampled to 16 kHz first
    const v2 = await e.embed(tone(220, 8000, 1), 8000);
    expect(v2.length).toBe(3);
    await e.close();
  });

  it('says clearly when the model path is missing or not a model', async () => {
    await expect(onnxEmbedding(join(dir, 'nope.onnx'))).rejects.toThrow(/ONNX model not found: .*nope.onnx/);
    await expect(onnxEmbedding(dir)).rejects.toThrow(/not a file/);
    writeFileSync(join(dir, 'junk.onnx'), 'not a model');
    await expect(onnxEmbedding(join(dir, 'junk.onnx'))).rejects.toThrow(/cannot load ONNX model/);
  });
});
