import type { PluginOption, UserConfig, ConfigEnv } from 'vite';

/** Bare imports the shell provides at run time (kept external). */
export declare const SHARED_MODULES: readonly string[];

export interface PluginUiOptions {
  /** The module exporting `install(shell)` (default `src/ui/index.ts`). */
  entry?: string;
  /** Where the module goes (default `dist/ui`); point the manifest's `ui` at `<outDir>/index.js`. */
  outDir?: string;
  /** Extra Vite plugins. */
  plugins?: PluginOption[];
  /** Set false to not add @vitejs/plugin-vue even when installed. */
  vue?: boolean;
  /** Anything else for Vite (merged; `build.lib` and the externals are the preset's). */
  vite?: UserConfig;
}

/** The Vite config of a plugin UI module: ES library build with vue, pinia, vue-router and @mpanel/sdk/ui external. */
export declare function mpanelPluginUi(options?: PluginUiOptions): (env: ConfigEnv) => Promise<UserConfig>;
export default mpanelPluginUi;
