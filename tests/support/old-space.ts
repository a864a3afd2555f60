import { getHeapSpaceStatistics } from 'node:v8';

import { youngGenerationGc } from '../../src/core/young-garbage.js';

function oldSpaceUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
}

/**
 * Bytes of old space that each completed `operation` leaves behind when young-generation
 * collections run between them, as promflux's response reading forces (core/young-garbage.ts):
 * what survives two of them is promoted, and stays until a mark-compact. Measured over `times`
 * operations after a warm-up, with a young collection every 10.
 */
export async function promotedPerOperation(
  operation: () => Promise<unknown>,
  times = 2000,
): Promise<number> {
  const gc = youngGenerationGc()!;
  // Sockets, parsers and compiled code are allocated once, not per operation.
  for (let i = 0; i < 50; i++) await operation();
  gc();
  gc();
  const before = oldSpaceUsed();
  for (let i = 0; i < times; i++) {
    await operation();
    if (i % 10 === 9) gc();
  }
  return (oldSpaceUsed() - before) / times;
}
