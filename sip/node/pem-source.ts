import { readFile } from 'node:fs/promises';
import type { PemSource } from './node-transport-options.js';

/**
 * The PEM bytes of a certificate or key given as PEM text, bytes, or the
 * path of a file. Files are read when the transport starts, so a missing
 * file rejects `start()` with the file system's error (ENOENT names the path).
 */
export async function loadPem(source: PemSource): Promise<Buffer> {
  if (typeof source !== 'string') return Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  if (source.trimStart().startsWith('-----BEGIN')) return Buffer.from(source, 'utf8');
  return readFile(source);
}

/** {@link loadPem} for an optional source. */
export async function loadOptionalPem(source: PemSource | undefined): Promise<Buffer | undefined> {
  return source === undefined ? undefined : loadPem(source);
}
