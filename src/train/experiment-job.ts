/** An experiment job and its result: what the pool (pool-node.ts) hands a worker and gets back, and what experiment-run.ts runs. */
import type { Dataset, Split } from '../data/dataset.js';
import type { ConfigInput } from '../model/config.js';
import type { Evaluation } from '../eval/evaluate.js';

export interface Job {
  key: string; ds: Dataset; split: Split; config: ConfigInput; label: string;
  /** Also write the trained model folder here (an ensemble member trained on a worker thread). */
  out?: string;
}
export interface JobResult {
  key: string; evaluation: Evaluation; seconds: number; bestEpoch: number; epochs: number; report: Record<string, number[]>;
  /** Test predictions (n × K, row-major, 6 significant digits) by report id, for `moodlens compare`. */
  test: { reportIds: string[]; items: string[]; predicted: number[] };
}
