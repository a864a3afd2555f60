import { createHash } from 'node:crypto';
import { rm, type FileHandle } from 'node:fs/promises';
import { openPrivateFile } from '../core/private-file.js';
import type { WriteCounter } from './row-group.js';

/**
 * A dataset file's bytes on disk: appended in order, counted and hashed as they go, for the
 * manifest's size and SHA-256 (and the progress display's `written`).
 */
export class HashedFile {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  private constructor(
    private readonly path: string,
    private readonly file: FileHandle,
    private readonly written: WriteCounter | undefined,
  ) {}

  static async create(path: string, written?: WriteCounter): Promise<HashedFile> {
    return new HashedFile(path, await openPrivateFile(path, 'w'), written);
  }

  async append(chunks: readonly Uint8Array[]): Promise<void> {
    let size = 0;
    for (const chunk of chunks) {
      this.hash.update(chunk);
      size += chunk.byteLength;
    }
    if (size === 0) return;
    await this.file.writev(chunks as Uint8Array[]);
    this.bytes += size;
    if (this.written) this.written.bytes += size;
  }

  /** Syncs and closes the file; its size and SHA-256. */
  async close(): Promise<{ bytes: number; sha256: string }> {
    try {
      await this.file.sync();
    } finally {
      await this.file.close();
    }
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  /** Closes and removes the file. */
  async abort(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }
}
