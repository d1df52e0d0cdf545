/**
 * The server's storage: ONE interface over Kysely, the same code for SQLite and PostgreSQL. The
 * SQL lives in one repository per entity (repositories/*.ts) over a shared core (database.ts:
 * group commit, audit rows, data keys); this facade is the index of everything the server may
 * ask of the database. Every row it hands out is decoded (rows.ts): no caller parses a column.
 */
import type { Kysely } from 'kysely';
import type { DB, DbKind } from './schema.js';
import type { DbHandle } from './connect.js';
import type { Keyring } from './crypto.js';
import { Database } from './database.js';
import { AccountsRepository } from './repositories/accounts.js';
import { StudiesRepository } from './repositories/studies.js';
import { ParticipantsRepository } from './repositories/participants.js';
import { ReportsRepository } from './repositories/reports.js';
import { SpeechRepository } from './repositories/speech.js';
import { ActivityRepository } from './repositories/activity.js';
import { PredictionsRepository } from './repositories/predictions.js';
import { ExportsRepository } from './repositories/exports.js';
import { AuditRepository } from './repositories/audit.js';
import { PushRepository } from './repositories/push.js';
import { PromptsRepository } from './repositories/prompts.js';
import { NotificationsRepository } from './repositories/notifications.js';
import { RateLimitsRepository } from './repositories/rate-limits.js';

export class Store {
  readonly db: Kysely<DB>;
  readonly kind: DbKind;
  /** The data keys: covariates, failure notes and push keys are sealed as they are written and opened as they are read. */
  readonly keys: Keyring;
  private readonly d: Database;
  private readonly accounts: AccountsRepository;
  private readonly studies: StudiesRepository;
  private readonly people: ParticipantsRepository;
  private readonly reports: ReportsRepository;
  private readonly speech: SpeechRepository;
  private readonly activity: ActivityRepository;
  private readonly predictions: PredictionsRepository;
  private readonly exports: ExportsRepository;
  private readonly auditLogs: AuditRepository;
  private readonly push: PushRepository;
  private readonly prompts: PromptsRepository;
  private readonly notify: NotificationsRepository;
  private readonly rateLimits: RateLimitsRepository;

  constructor(handle: DbHandle, keys: Keyring) {
    this.d = new Database(handle, keys);
    this.db = this.d.db; this.kind = this.d.kind; this.keys = keys;
    this.accounts = new AccountsRepository(this.d);
    this.studies = new StudiesRepository(this.d);
    this.people = new ParticipantsRepository(this.d);
    this.reports = new ReportsRepository(this.d);
    this.speech = new SpeechRepository(this.d);
    this.activity = new ActivityRepository(this.d);
    this.predictions = new PredictionsRepository(this.d);
    this.exports = new ExportsRepository(this.d);
    this.auditLogs = new AuditRepository(this.d);
    this.push = new PushRepository(this.d);
    this.prompts = new PromptsRepository(this.d);
    this.notify = new NotificationsRepository(this.d);
    this.rateLimits = new RateLimitsRepository(this.d);
  }

  // ---------- rate-limit counters (repositories/rate-limits.ts) ----------
  hitRateLimit: RateLimitsRepository['hitRateLimit'] = (...a) => this.rateLimits.hitRateLimit(...a);
  readRateLimit: RateLimitsRepository['readRateLimit'] = (...a) => this.rateLimits.readRateLimit(...a);
  sweepRateLimits: RateLimitsRepository['sweepRateLimits'] = (...a) => this.rateLimits.sweepRateLimits(...a);

  // ---------- the core (database.ts) ----------
  close: Database['close'] = () => this.d.close();
  audit: Database['audit'] = (...a) => this.d.audit(...a);
  sealAudit: Database['sealAudit'] = () => this.d.sealAudit();
  purgeFreedPages: Database['purgeFreedPages'] = () => this.d.purgeFreedPages();
  ping: Database['ping'] = () => this.d.ping();
  beforeCommit: Database['beforeCommit'] = (...a) => this.d.beforeCommit(...a);

  // ---------- accounts (repositories/accounts.ts) ----------
  countUsers: AccountsRepository['countUsers'] = () => this.accounts.countUsers();
  createUser: AccountsRepository['createUser'] = (...a) => this.accounts.createUser(...a);
  userByEmail: AccountsRepository['userByEmail'] = (...a) => this.accounts.userByEmail(...a);
  userById: AccountsRepository['userById'] = (...a) => this.accounts.userById(...a);
  users: AccountsRepository['users'] = () => this.accounts.users();
  firstAdminEmail: AccountsRepository['firstAdminEmail'] = () => this.accounts.firstAdminEmail();
  createSession: AccountsRepository['createSession'] = (...a) => this.accounts.createSession(...a);
  sessionUser: AccountsRepository['sessionUser'] = (...a) => this.accounts.sessionUser(...a);
  deleteSession: AccountsRepository['deleteSession'] = (...a) => this.accounts.deleteSession(...a);
  setPassword: AccountsRepository['setPassword'] = (...a) => this.accounts.setPassword(...a);
  createPasswordReset: AccountsRepository['createPasswordReset'] = (...a) => this.accounts.createPasswordReset(...a);
  consumePasswordReset: AccountsRepository['consumePasswordReset'] = (...a) => this.accounts.consumePasswordReset(...a);
  setDisabled: AccountsRepository['setDisabled'] = (...a) => this.accounts.setDisabled(...a);
  loginFailures: AccountsRepository['loginFailures'] = (...a) => this.accounts.loginFailures(...a);
  recordLoginFailure: AccountsRepository['recordLoginFailure'] = (...a) => this.accounts.recordLoginFailure(...a);
  clearLoginFailures: AccountsRepository['clearLoginFailures'] = (...a) => this.accounts.clearLoginFailures(...a);

  // ---------- studies and members (repositories/studies.ts) ----------
  createStudy: StudiesRepository['createStudy'] = (...a) => this.studies.createStudy(...a);
  updateStudy: StudiesRepository['updateStudy'] = (...a) => this.studies.updateStudy(...a);
  study: StudiesRepository['study'] = (...a) => this.studies.study(...a);
  studyExists: StudiesRepository['studyExists'] = (...a) => this.studies.studyExists(...a);
  studiesOf: StudiesRepository['studiesOf'] = (...a) => this.studies.studiesOf(...a);
  memberRole: StudiesRepository['memberRole'] = (...a) => this.studies.memberRole(...a);
  members: StudiesRepository['members'] = (...a) => this.studies.members(...a);
  changeMember: StudiesRepository['changeMember'] = (...a) => this.studies.changeMember(...a);
  studyModels: StudiesRepository['studyModels'] = () => this.studies.studyModels();
  setModel: StudiesRepository['setModel'] = (...a) => this.studies.setModel(...a);

  // ---------- participants and withdrawal (repositories/participants.ts) ----------
  createParticipant: ParticipantsRepository['createParticipant'] = (...a) => this.people.createParticipant(...a);
  participant: ParticipantsRepository['participant'] = (...a) => this.people.participant(...a);
  participantById: ParticipantsRepository['participantById'] = (...a) => this.people.participantById(...a);
  participants: ParticipantsRepository['participants'] = (...a) => this.people.participants(...a);
  participantByToken: ParticipantsRepository['participantByToken'] = (...a) => this.people.participantByToken(...a);
  enrol: ParticipantsRepository['enrol'] = (...a) => this.people.enrol(...a);
  recordConsent: ParticipantsRepository['recordConsent'] = (...a) => this.people.recordConsent(...a);
  setScheduleOverrides: ParticipantsRepository['setScheduleOverrides'] = (...a) => this.people.setScheduleOverrides(...a);
  reissueCode: ParticipantsRepository['reissueCode'] = (...a) => this.people.reissueCode(...a);
  withdraw: ParticipantsRepository['withdraw'] = (...a) => this.people.withdraw(...a);
  holdings: ParticipantsRepository['holdings'] = (...a) => this.people.holdings(...a);

  // ---------- reports (repositories/reports.ts) ----------
  insertReport: ReportsRepository['insertReport'] = (...a) => this.reports.insertReport(...a);
  reportByClientId: ReportsRepository['reportByClientId'] = (...a) => this.reports.reportByClientId(...a);
  reportById: ReportsRepository['reportById'] = (...a) => this.reports.reportById(...a);
  countReportsBefore: ReportsRepository['countReportsBefore'] = (...a) => this.reports.countReportsBefore(...a);
  reportsOf: ReportsRepository['reportsOf'] = (...a) => this.reports.reportsOf(...a);
  studyReports: ReportsRepository['studyReports'] = (...a) => this.reports.studyReports(...a);
  clientIds: ReportsRepository['clientIds'] = (...a) => this.reports.clientIds(...a);
  answeredPrompt: ReportsRepository['answeredPrompt'] = (...a) => this.reports.answeredPrompt(...a);
  answeredPromptIds: ReportsRepository['answeredPromptIds'] = (...a) => this.reports.answeredPromptIds(...a);
  reportSpeech: ReportsRepository['reportSpeech'] = (...a) => this.reports.reportSpeech(...a);

  // ---------- speech (repositories/speech.ts) ----------
  insertSpeech: SpeechRepository['insertSpeech'] = (...a) => this.speech.insertSpeech(...a);
  speechFiles: SpeechRepository['speechFiles'] = () => this.speech.speechFiles();
  speechOf: SpeechRepository['speechOf'] = (...a) => this.speech.speechOf(...a);
  studySpeech: SpeechRepository['studySpeech'] = (...a) => this.speech.studySpeech(...a);
  storeComputedSpeechFeatures: SpeechRepository['storeComputedSpeechFeatures'] = (...a) => this.speech.storeComputedSpeechFeatures(...a);
  storeSpeechRejection: SpeechRepository['storeSpeechRejection'] = (...a) => this.speech.storeSpeechRejection(...a);
  speechWithoutFeatures: SpeechRepository['speechWithoutFeatures'] = () => this.speech.speechWithoutFeatures();
  speechSettled: SpeechRepository['speechSettled'] = (...a) => this.speech.speechSettled(...a);
  insertSpeechFeatures: SpeechRepository['insertSpeechFeatures'] = (...a) => this.speech.insertSpeechFeatures(...a);
  speechFeaturesOf: SpeechRepository['speechFeaturesOf'] = (...a) => this.speech.speechFeaturesOf(...a);
  participantSpeechFeatures: SpeechRepository['participantSpeechFeatures'] = (...a) => this.speech.participantSpeechFeatures(...a);
  studySpeechFeatureNames: SpeechRepository['studySpeechFeatureNames'] = (...a) => this.speech.studySpeechFeatureNames(...a);
  studySpeechFeatures: SpeechRepository['studySpeechFeatures'] = (...a) => this.speech.studySpeechFeatures(...a);
  noteSpeechFailure: SpeechRepository['noteSpeechFailure'] = (...a) => this.speech.noteSpeechFailure(...a);

  // ---------- activity (repositories/activity.ts) ----------
  insertEpochs: ActivityRepository['insertEpochs'] = (...a) => this.activity.insertEpochs(...a);
  activityBetween: ActivityRepository['activityBetween'] = (...a) => this.activity.activityBetween(...a);
  participantActivity: ActivityRepository['participantActivity'] = (...a) => this.activity.participantActivity(...a);
  studyActivity: ActivityRepository['studyActivity'] = (...a) => this.activity.studyActivity(...a);
  countStudyActivity: ActivityRepository['countStudyActivity'] = (...a) => this.activity.countStudyActivity(...a);
  countActivity: ActivityRepository['countActivity'] = (...a) => this.activity.countActivity(...a);

  // ---------- predictions and alerts (repositories/predictions.ts) ----------
  insertPrediction: PredictionsRepository['insertPrediction'] = (...a) => this.predictions.insertPrediction(...a);
  predictionsOf: PredictionsRepository['predictionsOf'] = (...a) => this.predictions.predictionsOf(...a);
  hasPrediction: PredictionsRepository['hasPrediction'] = (...a) => this.predictions.hasPrediction(...a);
  predictedReports: PredictionsRepository['predictedReports'] = (...a) => this.predictions.predictedReports(...a);
  upsertAlert: PredictionsRepository['upsertAlert'] = (...a) => this.predictions.upsertAlert(...a);
  alert: PredictionsRepository['alert'] = (...a) => this.predictions.alert(...a);
  alerts: PredictionsRepository['alerts'] = (...a) => this.predictions.alerts(...a);
  acknowledgeAlert: PredictionsRepository['acknowledgeAlert'] = (...a) => this.predictions.acknowledgeAlert(...a);

  // ---------- export jobs (repositories/exports.ts) ----------
  createExportJob: ExportsRepository['createExportJob'] = (...a) => this.exports.createExportJob(...a);
  updateExportJob: ExportsRepository['updateExportJob'] = (...a) => this.exports.updateExportJob(...a);
  exportJob: ExportsRepository['exportJob'] = (...a) => this.exports.exportJob(...a);
  exportJobs: ExportsRepository['exportJobs'] = (...a) => this.exports.exportJobs(...a);
  finishedExportsBefore: ExportsRepository['finishedExportsBefore'] = (...a) => this.exports.finishedExportsBefore(...a);
  failInterruptedExports: ExportsRepository['failInterruptedExports'] = (...a) => this.exports.failInterruptedExports(...a);
  unfinishedExports: ExportsRepository['unfinishedExports'] = () => this.exports.unfinishedExports();
  exportJobById: ExportsRepository['exportJobById'] = (...a) => this.exports.exportJobById(...a);
  markExportDeleted: ExportsRepository['markExportDeleted'] = (...a) => this.exports.markExportDeleted(...a);
  withdrawalSince: ExportsRepository['withdrawalSince'] = (...a) => this.exports.withdrawalSince(...a);

  // ---------- the audit log (repositories/audit.ts) ----------
  auditLog: AuditRepository['auditLog'] = (...a) => this.auditLogs.auditLog(...a);
  auditAll: AuditRepository['auditAll'] = (...a) => this.auditLogs.auditAll(...a);

  // ---------- Web Push (repositories/push.ts) ----------
  pushKeys: PushRepository['pushKeys'] = () => this.push.pushKeys();
  savePushKeys: PushRepository['savePushKeys'] = (...a) => this.push.savePushKeys(...a);
  saveSubscription: PushRepository['saveSubscription'] = (...a) => this.push.saveSubscription(...a);
  deleteSubscription: PushRepository['deleteSubscription'] = (...a) => this.push.deleteSubscription(...a);
  dropEndpoint: PushRepository['dropEndpoint'] = (...a) => this.push.dropEndpoint(...a);
  markEndpoint: PushRepository['markEndpoint'] = (...a) => this.push.markEndpoint(...a);
  subscribedParticipants: PushRepository['subscribedParticipants'] = () => this.push.subscribedParticipants();
  subscriptionsOf: PushRepository['subscriptionsOf'] = (...a) => this.push.subscriptionsOf(...a);
  purgeInactive: PushRepository['purgeInactive'] = () => this.push.purgeInactive();
  claimReminder: PushRepository['claimReminder'] = (...a) => this.push.claimReminder(...a);
  reminderResult: PushRepository['reminderResult'] = (...a) => this.push.reminderResult(...a);

  // ---------- the prompt log's events (repositories/prompts.ts) ----------
  markPrompt: PromptsRepository['markPrompt'] = (...a) => this.prompts.markPrompt(...a);
  promptEvents: PromptsRepository['promptEvents'] = (...a) => this.prompts.promptEvents(...a);

  // ---------- threshold notifications (repositories/notifications.ts) ----------
  notifySettings: NotificationsRepository['notifySettings'] = (...a) => this.notify.notifySettings(...a);
  saveNotifySettings: NotificationsRepository['saveNotifySettings'] = (...a) => this.notify.saveNotifySettings(...a);
  createNotification: NotificationsRepository['createNotification'] = (...a) => this.notify.createNotification(...a);
  notification: NotificationsRepository['notification'] = (...a) => this.notify.notification(...a);
  claimDueDeliveries: NotificationsRepository['claimDue'] = (...a) => this.notify.claimDue(...a);
  deliveryResult: NotificationsRepository['deliveryResult'] = (...a) => this.notify.deliveryResult(...a);
  notifications: NotificationsRepository['notifications'] = (...a) => this.notify.notifications(...a);
  acknowledgeNotification: NotificationsRepository['acknowledgeNotification'] = (...a) => this.notify.acknowledgeNotification(...a);
  teamEmails: NotificationsRepository['teamEmails'] = (...a) => this.notify.teamEmails(...a);
  recentNotifySources: NotificationsRepository['recentSources'] = (...a) => this.notify.recentSources(...a);
}

export type { AuditEntry } from './database.js';
export type { User, Study, Member, Participant, Report, Speech, SpeechFeatures, Epoch, StoredEpoch, Prediction, Alert, ExportJob, AuditRow } from './rows.js';
export type { MemberChange } from './repositories/studies.js';
export type { WithdrawalSummary } from './repositories/participants.js';
