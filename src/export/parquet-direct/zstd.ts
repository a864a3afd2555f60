import { compress, init } from '@bokuweb/zstd-wasm';

/**
 * zstd from @bokuweb/zstd-wasm (MIT; the wasm build of the reference C library ships inside the
 * npm package, nothing is downloaded or compiled at install). One-shot `ZSTD_compress`: for a
 * given library version and level the bytes are the same on every run.
 */
let ready: Promise<void> | undefined;

export async function loadZstd(): Promise<void> {
  ready ??= init();
  await ready;
}

/** Level 1, as parquet-wasm's writer uses by default. Call `loadZstd` first. */
export function zstd(data: Uint8Array, level = 1): Uint8Array {
  return compress(data, level);
}
