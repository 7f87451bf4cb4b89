/** The plugin's settings (manifest `settings`, defaults applied by the panel). */
export interface DatabaseSettings {
  recoverAfterSeconds: number;
  sizeRefreshMinutes: number;
  passwordLength: number;
}
