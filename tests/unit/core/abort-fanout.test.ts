import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';

import { whenAborted } from '../../../src/core/abort-fanout.js';

describe('whenAborted', () => {
  it('serves any number of subscribers through one listener and calls those still subscribed', () => {
    const controller = new AbortController();
    const called: number[] = [];
    const unsubscribes = Array.from({ length: 20 }, (_, i) =>
      whenAborted(controller.signal, () => called.push(i)),
    );
    // More than the 10 listeners after which node warns of a leak.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    unsubscribes[3]!();
    controller.abort();
    expect(called).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 3));
    // Calling an unsubscribe after the abort is harmless.
    unsubscribes[0]!();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('removes its listener with the last unsubscription, and adds one again when needed', () => {
    const controller = new AbortController();
    const first = whenAborted(controller.signal, () => {});
    const second = whenAborted(controller.signal, () => {});
    first();
    first();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    second();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);

    let calls = 0;
    whenAborted(controller.signal, () => calls++);
    controller.abort();
    expect(calls).toBe(1);
  });
});
