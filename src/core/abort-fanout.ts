/**
 * Abort callbacks for the many short operations (requests, writes) that share one long-lived
 * signal, through a single 'abort' listener on it. Adding a listener per operation would warn
 * (MaxListenersExceededWarning) once more than 10 are in flight, and `AbortSignal.any` per
 * operation is what this replaces: in Node 20 its signals are held by weak references, which
 * young-generation collections do not clear, so every one of them was promoted and stayed in the
 * old generation until a mark-compact (see core/young-garbage.ts).
 */
interface Fanout {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}

const fanouts = new WeakMap<AbortSignal, Fanout>();

/**
 * Calls `callback` once when `signal` aborts; a signal that has already aborted never calls it
 * (check `aborted` first). Returns the function that unsubscribes; the last unsubscription
 * removes the listener, so nothing stays on an idle signal.
 */
export function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  let fanout = fanouts.get(signal);
  if (fanout === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      fanouts.delete(signal);
      for (const cb of [...callbacks]) cb();
    };
    fanout = { callbacks, listener };
    fanouts.set(signal, fanout);
    signal.addEventListener('abort', listener, { once: true });
  }
  const current = fanout;
  current.callbacks.add(callback);
  return () => {
    if (!current.callbacks.delete(callback) || current.callbacks.size > 0) return;
    if (fanouts.get(signal) !== current) return;
    fanouts.delete(signal);
    signal.removeEventListener('abort', current.listener);
  };
}
