/** A Buffer view of `bytes` (no copy): Buffer methods for a plain `Uint8Array`, such as a transferred chunk. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
