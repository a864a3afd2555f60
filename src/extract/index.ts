export * from './types.js';
export { parsePromValue, decimalToDouble } from './prom-value.js';
export {
  DecodeError,
  LabelStringCache,
  MatrixDecoder,
  type DecodedResponse,
  type MatrixDecoderOptions,
} from './matrix-decoder.js';
export { decodeMatrixReference } from './matrix-reference.js';
export {
  chunkPoints,
  firstGridPoint,
  lastGridPoint,
  planChunk,
  planChunks,
  pointsPerChunk,
  splitChunk,
  PROMETHEUS_MAX_POINTS,
  type ChunkLimits,
} from './chunk-plan.js';
export {
  classifyQueryError,
  formatPromSeconds,
  formatPromStep,
  PrometheusClient,
  PrometheusRequestError,
  type PrometheusClientOptions,
  type QueryRangeOptions,
} from './prometheus.js';
export {
  extractRange,
  isTooManySamples,
  type ExtractedChunk,
  type ExtractRangeOptions,
} from './extract-range.js';
