/**
 * Versions a new plugin is pinned to. The scaffolder is published on its own,
 * without the monorepo, so it cannot look them up at run time; the scaffold
 * test compares them with the repository's packages, so a release with stale
 * pins fails CI instead of producing plugins that don't install.
 */
export const PINNED_VERSIONS = {
  sdk: '0.1.1',
  core: '0.1.1',
  typescript: '6.0.3',
  vitest: '4.1.12',
  typesNode: '^20.19.0',
} as const;
