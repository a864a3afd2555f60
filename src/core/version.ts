/** promflux's version: `--version` and `promflux_build_info`. Keep in step with package.json. */
export const VERSION = '0.1.0';
