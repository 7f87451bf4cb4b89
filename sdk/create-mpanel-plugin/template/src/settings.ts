/**
 * The plugin's settings as `ctx.settings.get()` returns them. Keep this in
 * step with the JSON Schema in package.json (`mpanel.settings`): the panel
 * validates against the schema and fills in its defaults, so every property
 * with a default is always present.
 */
export interface Settings {
  maxNameLength: number;
}
