/** The config stage: YAML file → validated {@link PromfluxConfig}. */
export { DEFAULT_QUERIES, defaultQueries } from './default-queries.js';
export {
  DEFAULT_CONFIG_PATH,
  loadConfigFile,
  parseConfig,
  resolveConfigPath,
  type LoadedConfig,
  type ParseConfigOptions,
} from './load-config.js';
export type * from './types.js';
