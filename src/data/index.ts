/**
 * The data API: study folder (SPEC §7) → checked study → instances (SPEC §1) → splits.
 * Node only (it re-exports the file-reading importer). Browser code imports the pure modules
 * directly: ./study.js, ./dataset.js, ./rows.js, ./activity.js, ./instances.js, ./split.js.
 */
export * from './study.js';
export * from './dataset.js';
export { parseIsoTime, parseNumberCell, reportRowSchema, activityRowSchema, speechFeatureRowSchema,
  ParticipantRowSchema, SpeechRowSchema, REQUIRED_COLUMNS } from './rows.js';
export { IssueList, DEFAULT_ISSUE_CAP } from './issues.js';
export { extractWindow, lowerBound, type ActivitySeries } from './activity.js';
export { loadStudy, localHourOf, type LoadedStudy, type LoadResult, type LoadOptions, type ParticipantInfo, type ReportTable } from './load.js';
export { validateStudy, type ValidationResult, type ValidateOptions } from './validate.js';
export { scaleLabel, unscaleLabel, channelPresent, speechPresent, activityWindow, instancesDataset, reportWithHistory,
  type ReportInstance, type InstanceShape } from './instances.js';
export { buildDataset, assembleInstances, selectInstances, dropReason, absentModalities, DROP_REASONS, ALLOW_MISSING_MODALITY,
  type BuildOptions, type BuildResult, type AllInstances } from './build.js';
export { chronologicalSplit, participantHeldOutSplit, instancesByParticipant,
  type ChronologicalOptions, type HeldOutOptions } from './split.js';
export { describeStudy, type StudyDescription, type ParticipantCompliance, type ModalityMissingness, type ItemSummary } from './describe.js';
export { convertLifeSnaps, DEFAULT_LIFESNAPS_CHANNELS, LIFESNAPS_MOODS, type LifeSnapsOptions, type LifeSnapsResult } from './lifesnaps.js';
