import fc from 'fast-check';

/**
 * Every property test runs from one fixed seed, so a run is reproducible and a failure is the same
 * on every machine. FAST_CHECK_SEED explores other inputs (e.g. `FAST_CHECK_SEED=$RANDOM npm test`);
 * fast-check prints the seed and path of any failure, and a test that sets its own seed keeps it.
 */
const seed = Number(process.env['FAST_CHECK_SEED'] ?? 20261201);
if (!Number.isSafeInteger(seed)) throw new Error(`FAST_CHECK_SEED must be an integer, not ${seed}`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
