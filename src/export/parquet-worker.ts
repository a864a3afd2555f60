/**
 * The Parquet encoder thread's entry (started by parquet-thread.ts): one ParquetEncoder per open
 * file, fed the row groups the main thread moves here, its bytes moved back as they come.
 */
import { parentPort } from 'node:worker_threads';
import { ParquetEncoder } from './parquet-encoder.js';
import type { FromEncoder, ToEncoder } from './parquet-thread.js';

interface Session {
  encoder: ParquetEncoder;
  /** The file's messages, handled one after the other. */
  queue: Promise<void>;
}

const port = parentPort;
if (!port) throw new Error('parquet-worker runs as a worker thread.');
const sessions = new Map<number, Session>();

function post(message: FromEncoder, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function handle(session: Session, message: ToEncoder): Promise<void> {
  switch (message.op) {
    case 'write':
      await session.encoder.write(message.group);
      post({ op: 'taken', id: message.id });
      return;
    case 'close':
      await session.encoder.close();
      sessions.delete(message.id);
      post({ op: 'closed', id: message.id });
      return;
    case 'abort':
      await session.encoder.abort();
      sessions.delete(message.id);
      post({ op: 'aborted', id: message.id });
      return;
    case 'open':
      return;
  }
}

port.on('message', (message: ToEncoder) => {
  const { id } = message;
  if (message.op === 'open') {
    const encoder = new ParquetEncoder(message.columns, message.options, (chunk) => {
      // A view of a larger buffer is copied, so that only its own bytes move.
      const bytes =
        chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
          ? chunk
          : chunk.slice();
      post({ op: 'chunk', id, bytes }, [bytes.buffer as ArrayBuffer]);
    });
    sessions.set(id, { encoder, queue: Promise.resolve() });
    return;
  }
  const session = sessions.get(id);
  // A file that failed is gone: what the main thread sent before it learnt so is dropped.
  if (!session) return;
  session.queue = session.queue.then(() =>
    handle(session, message).catch(async (error: unknown) => {
      sessions.delete(id);
      await session.encoder.abort();
      post({
        op: 'failed',
        id,
        message: error instanceof Error ? error.message : String(error),
      });
    }),
  );
});
