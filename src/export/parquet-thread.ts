import { Worker } from 'node:worker_threads';
import type { ParquetEncoderOptions } from './parquet-encoder.js';
import type { ColumnSpec, RowGroup } from './row-group.js';

/** Messages to the encoder thread, per file (`id`); a file's messages are handled in order. */
export type ToEncoder =
  | { op: 'open'; id: number; columns: readonly ColumnSpec[]; options: ParquetEncoderOptions }
  | { op: 'write'; id: number; group: RowGroup }
  | { op: 'close'; id: number }
  | { op: 'abort'; id: number };

/** Messages from the encoder thread; a file's `chunk`s come in order, before its `closed`. */
export type FromEncoder =
  | { op: 'chunk'; id: number; bytes: Uint8Array }
  | { op: 'taken'; id: number }
  | { op: 'closed'; id: number }
  | { op: 'aborted'; id: number }
  | { op: 'failed'; id: number; message: string };

/**
 * Row groups handed to the encoder thread and not yet taken by its writer, beyond which `write`
 * waits. With none, `write` returns once the writer started on its row group, so the thread
 * encodes one while the caller fills the next, and memory holds two (~6 MB each for the bench's
 * query); a queued third measured no faster and 10-20 MB higher.
 */
const MAX_QUEUED = 0;

/** One file's Parquet encoding in the encoder thread. */
export class EncoderSession {
  private queued = 0;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private ended: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private done = false;

  constructor(
    private readonly thread: EncoderThread,
    readonly id: number,
    private readonly output: (chunk: Uint8Array) => void,
  ) {}

  /**
   * Moves the row group's buffers to the thread (they are detached here afterwards); resolves
   * when the thread can take another one.
   */
  async write(group: RowGroup, transfer: readonly ArrayBuffer[]): Promise<void> {
    if (this.failure) throw this.failure;
    this.thread.post({ op: 'write', id: this.id, group }, transfer);
    this.queued++;
    while (this.queued > MAX_QUEUED) {
      await new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    }
  }

  /** Resolves once every byte of the file went to `output`. */
  close(): Promise<void> {
    return this.end('close');
  }

  /** Stops the file's encoding; never rejects. */
  abort(): Promise<void> {
    return this.end('abort').catch(() => undefined);
  }

  private end(op: 'close' | 'abort'): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.done) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.ended = { resolve, reject };
      this.thread.post({ op, id: this.id }, []);
    });
  }

  /** @internal A message of this file from the thread. */
  receive(message: FromEncoder): void {
    switch (message.op) {
      case 'chunk':
        this.output(message.bytes);
        return;
      case 'taken':
        this.queued--;
        this.waiters.shift()?.resolve();
        return;
      case 'closed':
      case 'aborted':
        this.finish();
        this.ended?.resolve();
        return;
      case 'failed':
        this.fail(new Error(message.message));
        return;
    }
  }

  /** @internal The file failed in the thread, or the thread stopped. */
  fail(error: Error): void {
    if (this.done) return;
    this.failure = error;
    this.finish();
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    this.ended?.reject(error);
  }

  private finish(): void {
    this.done = true;
    this.thread.forget(this.id);
  }
}

/**
 * The worker thread that encodes Parquet (parquet-worker.ts), shared by every file of the process
 * and started with the first. The CPU of encoding (Arrow, parquet-wasm, zstd) then overlaps with
 * the main thread's extraction instead of adding to it. It keeps the process alive only while a
 * file is open.
 */
export class EncoderThread {
  private readonly sessions = new Map<number, EncoderSession>();
  private nextId = 1;

  private constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (message: FromEncoder) => this.sessions.get(message.id)?.receive(message));
    worker.on('error', (error) => this.stop(error));
    worker.on('exit', (code) => this.stop(new Error(`exited with code ${code}`)));
  }

  static start(): EncoderThread {
    // Resolved next to this module, not from the working directory.
    if (!import.meta.url.endsWith('.ts')) {
      return new EncoderThread(
        new Worker(new URL('./parquet-worker.js', import.meta.url), { resourceLimits: LIMITS }),
      );
    }
    // Under the test runner the modules are TypeScript sources: the thread loads them through
    // tsx (a dev dependency), registered in the thread before its entry is imported.
    const entry = JSON.stringify(new URL('./parquet-worker.ts', import.meta.url).href);
    return new EncoderThread(
      new Worker(
        `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); });`,
        { eval: true, resourceLimits: LIMITS },
      ),
    );
  }

  open(
    columns: readonly ColumnSpec[],
    options: ParquetEncoderOptions,
    output: (chunk: Uint8Array) => void,
  ): EncoderSession {
    const session = new EncoderSession(this, this.nextId++, output);
    if (this.sessions.size === 0) this.worker.ref();
    this.sessions.set(session.id, session);
    this.post({ op: 'open', id: session.id, columns, options }, []);
    return session;
  }

  /** @internal */
  post(message: ToEncoder, transfer: readonly ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer as ArrayBuffer[]);
  }

  /** @internal */
  forget(id: number): void {
    this.sessions.delete(id);
    if (this.sessions.size === 0) this.worker.unref();
  }

  private stop(cause: Error): void {
    if (shared === this) shared = undefined;
    const error = new Error(`The Parquet encoder thread stopped: ${cause.message}`);
    for (const session of [...this.sessions.values()]) session.fail(error);
  }
}

/**
 * The thread's JS heap holds little for long (a row group, mostly outside the heap), but V8 would
 * grow its young generation to 32 MB or more, as the main thread's: 4 MB is plenty.
 */
const LIMITS = { maxYoungGenerationSizeMb: 4 };

let shared: EncoderThread | undefined;

/** The process's encoder thread, started on first use (and again if it stopped). */
export function encoderThread(): EncoderThread {
  shared ??= EncoderThread.start();
  return shared;
}
