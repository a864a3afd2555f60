/**
 * Reading back what promflux stored in InfluxDB (export `--source influxdb`, `verify`):
 * {@link openStoredSeriesReader} on the sink's config, {@link storedSeriesQuery} for a query and
 * tier, then `reader.read(query)` yields time chunks of columnar series.
 */
export { openStoredSeriesReader } from './reader.js';
export type { StoredSeriesReader, StoredSeriesReaderOptions } from './reader.js';
export { storedSeriesQuery, storedSeriesTarget } from './stored-series.js';
export type { StoredChunk, StoredSeries, StoredSeriesQuery } from './stored-series.js';
export { StoredReadError } from './read-error.js';
