/** The plugin's settings (defaults from the manifest's schema are applied by the panel). */
export interface MonitoringSettings {
  defaultIntervalMs: number;
  enrollmentTokenTtlMinutes: number;
  rawRetentionHours: number;
  minuteRetentionDays: number;
  hourRetentionDays: number;
  logRetentionHours: number;
  alertEvaluationMs: number;
  rollupEveryMs: number;
  alertEmail: string;
  commandTimeoutMs: number;
}
