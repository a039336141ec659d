import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Occupies every thread of libuv's pool with a read from an empty FIFO, so that file I/O queued
 * after it runs only once the returned function is called: a busy thread pool, made certain.
 * Tests of "native I/O reads memory after release" use it so the hazard does not depend on
 * which thread wins a race (on a loaded machine the writes sometimes all won).
 */
export function holdThreadPool(): () => Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ka-fifo-'));
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const fd = fs.openSync(fifo, 'r+'); // read-write: the open does not wait for a writer
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const reads = Array.from({ length: threads }, () => new Promise<void>((resolve) => fs.read(fd, Buffer.alloc(1), 0, 1, null, () => resolve())));
  return async () => {
    fs.writeSync(fd, Buffer.alloc(threads));
    await Promise.all(reads);
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true });
  };
}
