/**
 * What a decoded kafkajs message costs in memory beyond its bytes.
 *
 * kafkajs builds one object per record: the record itself, offset and timestamp strings, a headers
 * object, and a Buffer view for the key, the value and each header value. That is about 310 B of
 * V8 heap for a keyless, headerless record whatever the value's size (Node 20 to 24), as much
 * again as a 300-byte JSON event: a budget that counts only the bytes lets the heap grow by that
 * much again behind it. A key adds about 100 B, a header about 100 B (Node 20 spent 738 B on a
 * record with a key and two headers: its object layouts). Measured with kafkajs's own decoder in
 * test/kafkajs/memory.test.ts, which fails if the estimate is off by more than 30 %; the table is
 * in the README ("Memory of decoded messages").
 */

/** The parts of a kafkajs message the estimate reads. */
export interface MessageShape {
  key?: Uint8Array | null;
  value?: Uint8Array | null;
  headers?: Record<string, unknown>;
}

/** The record object, its offset and timestamp strings, its headers object, and its value view. */
export const MESSAGE_OBJECT_BYTES = 310;
/** A Buffer view (the key's, or a header value's). */
export const BUFFER_VIEW_BYTES = 96;
/** A header beyond its value view (its property slot; short key strings come out of this budget too). */
export const HEADER_ENTRY_BYTES = 8;

/**
 * Estimated V8 heap one decoded kafkajs message holds, its bytes not included. The key, value and
 * header values are views (of the fetch response, or in recycling mode of an arena lease), so
 * their bytes are counted where they live.
 */
export function messageObjectBytes(message: MessageShape): number {
  let bytes = MESSAGE_OBJECT_BYTES;
  if (message.key) bytes += BUFFER_VIEW_BYTES;
  const headers = message.headers;
  if (headers) {
    for (const name in headers) {
      const v = headers[name];
      bytes += HEADER_ENTRY_BYTES + (Array.isArray(v) ? v.length * BUFFER_VIEW_BYTES : BUFFER_VIEW_BYTES);
    }
  }
  return bytes;
}

/**
 * Bytes of a key, value or header value as kafkajs takes and gives them: a Buffer, a string (UTF-8),
 * null, or (headers) an array of these. Shared with the producer's `recordBytes`.
 */
export function payloadBytes(v: unknown): number {
  if (v == null) return 0;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) {
    let n = 0;
    for (const x of v) n += payloadBytes(x);
    return n;
  }
  return (v as Uint8Array).byteLength ?? 0;
}

/**
 * Estimated memory a decoded kafkajs message keeps alive: its key, value and header bytes plus
 * {@link messageObjectBytes}. Size a queue of messages or batches with it (`ByteQueue`'s
 * `sizeOf`, or `push(item, bytes)`) so that its capacity bounds memory, not just payload.
 */
export function messageMemoryBytes(message: MessageShape): number {
  let bytes = messageObjectBytes(message) + (message.key?.byteLength ?? 0) + (message.value?.byteLength ?? 0);
  const headers = message.headers;
  if (headers) for (const name in headers) bytes += payloadBytes(headers[name]);
  return bytes;
}

/** {@link messageMemoryBytes} summed over a batch's messages. */
export function batchMemoryBytes(messages: readonly MessageShape[]): number {
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) bytes += messageMemoryBytes(messages[i]);
  return bytes;
}
