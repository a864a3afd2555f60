/** The config stage: YAML file and `PROMFLUX__*` variables → validated {@link PromfluxConfig}. */
export { DEFAULT_QUERIES, defaultQueries } from './default-queries.js';
export { ENV_PREFIX, envVariableFor, hasEnvOverrides } from './env-overrides.js';
export {
  configPathNamed,
  DEFAULT_CONFIG_PATH,
  ENV_ONLY_SOURCE,
  loadConfigFile,
  parseConfig,
  resolveConfigPath,
  type LoadConfigFileOptions,
  type LoadedConfig,
  type ParseConfigOptions,
} from './load-config.js';
export type * from './types.js';
