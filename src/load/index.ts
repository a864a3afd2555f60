export type { LineBatch, Precision, Sink, SinkCheckResult, WriteReport } from './sink.js';
export { BatchWriter, lineOffsets } from './batch-writer.js';
export type {
  BatchWriterOptions,
  PostFn,
  RawResponse,
  RequestEvent,
  RetryEvent,
  SinkDeps,
} from './batch-writer.js';
export { createSink, fallbackApi } from './create-sink.js';
export { DeadLetterFile } from './dead-letter.js';
export type { DeadLetterGroup } from './dead-letter.js';
export { apiFromVersion, detectInfluxApi, pingInflux } from './detect-api.js';
export type { InfluxPing, InfluxWriteApi } from './detect-api.js';
export { httpRequest, HttpAbortError, HttpTimeoutError } from './http-request.js';
export { InfluxDbV1Sink, parseDatabaseTarget } from './influxdb-v1.js';
export { InfluxDbV2Sink } from './influxdb-v2.js';
export { classifyWriteOutcome, serverErrorMessage } from './write-outcome.js';
export type { WriteOutcome, WriteResponse } from './write-outcome.js';
