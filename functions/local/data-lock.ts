/**
 * One process at a time on an embedded database folder: PGlite has one session and no
 * locking of its own, so a second broker (or a CLI command) on the same folder would corrupt
 * it. The lock is a file holding the owner's pid; a lock left by a dead process is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class DataLockedError extends Error {
  readonly pid: number;
  constructor(folder: string, pid: number) {
    super(
      `the embedded database ${folder} is in use by another deskbroker process (pid ${pid}); stop it first, or point this command at the running broker with --url`,
    );
    this.name = 'DataLockedError';
    this.pid = pid;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock of `folder`. @throws {DataLockedError} when a live process holds it.
 * @returns a function that releases it.
 */
export function lockDataFolder(folder: string): () => void {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, 'deskbroker.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (e: unknown) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid && pid !== process.pid && alive(pid)) throw new DataLockedError(folder, pid);
      rmSync(file, { force: true });
    }
  }
  throw new DataLockedError(folder, Number.NaN);
}
