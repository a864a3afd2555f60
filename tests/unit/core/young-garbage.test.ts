import { describe, expect, it } from 'vitest';
import { YoungGarbageCollector, youngGenerationGc } from '../../../src/core/young-garbage.js';

describe('YoungGarbageCollector', () => {
  it('collects once each time the byte budget is reached, not before', () => {
    let collections = 0;
    const collector = new YoungGarbageCollector(100, () => collections++);
    collector.add(60);
    expect(collections).toBe(0);
    collector.add(40);
    expect(collections).toBe(1);
    collector.add(99);
    expect(collections).toBe(1);
    collector.add(250);
    expect(collections).toBe(2);
  });

  it('gets a real young-generation collection without putting gc on the global scope', () => {
    const gc = youngGenerationGc();
    expect(gc).toBeTypeOf('function');
    expect('gc' in globalThis).toBe(false);
    // Buffers that died young are freed by it: their external memory goes back down.
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 24; i++) Buffer.alloc(1024 * 1024).fill(i);
    gc!();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
  });
});
