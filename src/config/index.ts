export { loadConfig, ConfigError, ENV_SETTINGS } from './load';
export type { LoadOptions } from './load';
export { configSchema, INSTANCE_NAME, SANDBOX_ARI_PASSWORD } from './schema';
export type { Config } from './schema';
export { routesOf, smtpOf, cpaSettings, catalogLocation, sharedNode, bucketOf } from './derived';
export { configLeaves, type LeafKind } from './leaves';
