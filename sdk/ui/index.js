// `@mpanel/sdk/ui` is provided by the mpanel web shell at run time: its import
// map points this specifier at the shell's own UI kit, so a plugin's UI module
// shares the shell's components (and Vue). This file is only reached outside
// the shell — e.g. a bundler that was not told to keep it external, or a
// unit test. Bundle plugin UIs with the `@mpanel/sdk/vite` preset; in tests,
// alias '@mpanel/sdk/ui' to '@mpanel/ui/kit' (the kit's source).
throw new Error(
  "@mpanel/sdk/ui is provided by the mpanel shell at run time: keep it external when bundling (use the @mpanel/sdk/vite preset); in tests alias it to '@mpanel/ui/kit'",
);
