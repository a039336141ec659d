/**
 * Buffer views without `Buffer.from(arrayBuffer, offset, length)`'s argument checks: Node's own
 * Buffers are instances of a Uint8Array subclass whose prototype is Buffer.prototype, and this is
 * the same construction, several times cheaper per view. The result is a real
 * Buffer: `Buffer.isBuffer` is true and every Buffer method works.
 */
class BufferView extends Uint8Array {}
Object.setPrototypeOf(BufferView.prototype, Buffer.prototype);
Object.defineProperty(BufferView.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });

/** A Buffer over `length` bytes of `buffer` from `offset`. The caller guarantees the bounds. */
export function bufferView(buffer: ArrayBufferLike, offset: number, length: number): Buffer {
  return new BufferView(buffer as ArrayBuffer, offset, length) as unknown as Buffer;
}
