/** Version of this SDK; plugins' manifests state a semver range of it in `sdk`. */
export const SDK_VERSION = '0.1.1';
