/**
 * Durable writes on the local file system: what survives `kill -9` and power loss once the call returns.
 * One implementation for the safety record, key files, genesis and configs (CometBFT privval's pattern).
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** fsync a directory, so a rename or a file creation inside it is durable. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replace `path` with `data` atomically and durably: write a temp file beside it with `mode`, fsync it, rename it
 * over `path`, fsync the directory. A crash at any point leaves either the old file or the new one, never a
 * torn or empty one. Creates the parent directory if needed.
 * @throws the file system's error (the old file is then untouched).
 * @example writeFileAtomicSync('data/keys/node_1.json', JSON.stringify(key), 0o600)
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(tmp, 'w', mode);
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode); // the umask may have narrowed or widened the mode given to open
  renameSync(tmp, path);
  fsyncDirSync(dir);
}
