/**
 * Instances (SPEC §1): one per EMA report, stored column-wise in typed arrays so that models,
 * splits and metrics can slice them without copying objects. Missing data is explicit:
 * NaN in the value arrays and 0 in the masks, never a silent zero.
 */
import type { Item } from './study.js';

/** How reports with incomplete modalities are treated (SPEC §6). */
export type MissingPolicy = 'complete' | 'masked';

export interface Dataset {
  items: Item[];
  /** Activity channel names, e.g. ["zcm", "pim"]. */
  channels: string[];
  /** Epochs in each activity window (60 in the paper). */
  windowEpochs: number;
  /** Names of the speech feature columns (empty when the study has no speech). */
  speechFeatures: string[];
  /** Participant ids; `participant[i]` indexes into this. */
  participantIds: string[];
  /** Number of instances. */
  n: number;
  /** Per instance: index into participantIds. */
  participant: Int32Array;
  reportIds: string[];
  /** Per instance: report time, ms since the Unix epoch (UTC). */
  time: Float64Array;
  /**
   * Per instance: when the rating was given (reports.csv `answered_at`), ms UTC; absent = `time`.
   * Anything built from earlier reports may use only those answered strictly before this one.
   */
  answeredAt?: Float64Array;
  /** Per instance: local hour of day of the report (0–24, fractional), in the participant's zone. */
  localHour: Float32Array;
  trigger: string[];
  /** n × K item values scaled to [0,1] by each item's min/max; NaN = not answered. */
  labels: Float32Array;
  /** n × C × W activity values (instance-major, then channel, then epoch); NaN = missing epoch. */
  activity: Float32Array;
  /** n × F speech feature values; NaN = missing. */
  speech: Float32Array;
  /**
   * n × M modality masks, M = C + 1: one per activity channel (1 = the whole window is present)
   * then speech (1 = usable features). A model masks out what is 0.
   */
  modalityMask: Uint8Array;
  /** Unknown columns of reports.csv, kept as covariates: column → raw text per instance. */
  covariates?: Record<string, string[]>;
}

/** Modality names in mask order: the activity channels, then "speech". */
export function modalityNames(d: Pick<Dataset, 'channels'>): string[] {
  return [...d.channels, 'speech'];
}

/** When instance i was answered (its `answered_at`, else its `time`), ms UTC. */
export function answeredAtOf(d: Pick<Dataset, 'time' | 'answeredAt'>, i: number): number {
  return d.answeredAt ? d.answeredAt[i] : d.time[i];
}

/** Indices of instances into a split. */
export interface Split {
  kind: 'chronological' | 'participant-held-out';
  train: Int32Array;
  dev: Int32Array;
  test: Int32Array;
}
