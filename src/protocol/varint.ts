/**
 * Kafka's variable-length integers (protobuf style, zigzag): `varint` is a zigzag int32 in at most
 * 5 bytes, `varlong` a zigzag int64 in at most 10 bytes. These helpers serve the encoder and
 * tests; the record decoder has its own inlined copies of the read loops for speed.
 */

/** Bytes `writeVarint(v)` takes, for an int32 `v`. */
export function sizeOfVarint(v: number): number {
  let zz = ((v << 1) ^ (v >> 31)) >>> 0;
  let n = 1;
  while (zz >= 0x80) {
    zz >>>= 7;
    n++;
  }
  return n;
}

/** Writes the zigzag varint of int32 `v` at `p`; returns the position after it. */
export function writeVarint(buf: Uint8Array, p: number, v: number): number {
  let zz = ((v << 1) ^ (v >> 31)) >>> 0;
  while (zz >= 0x80) {
    buf[p++] = (zz & 0x7f) | 0x80;
    zz >>>= 7;
  }
  buf[p++] = zz;
  return p;
}

/**
 * Bytes `writeVarlong(v)` takes, for a safe integer `v` (|v| <= 2^53 - 1). The zigzag value is
 * handled as `(m << 1) | sign` with `m = v >= 0 ? v : -v - 1`, which stays exact for every safe
 * integer (unlike computing `2v` or `-2v - 1` in floating point).
 */
export function sizeOfVarlong(v: number): number {
  let m = v >= 0 ? v : -v - 1;
  if (m < 0x40) return 1;
  m = Math.floor(m / 0x40);
  let n = 2;
  while (m >= 0x80) {
    m = Math.floor(m / 0x80);
    n++;
  }
  return n;
}

/** Writes the zigzag varlong of safe integer `v` at `p`; returns the position after it. */
export function writeVarlong(buf: Uint8Array, p: number, v: number): number {
  const sign = v < 0 ? 1 : 0;
  let m = sign ? -v - 1 : v;
  // First group: 6 bits of m and the sign bit.
  const low = ((m % 0x40) << 1) | sign;
  m = Math.floor(m / 0x40);
  if (m === 0) {
    buf[p++] = low;
    return p;
  }
  buf[p++] = low | 0x80;
  while (m >= 0x80) {
    buf[p++] = (m % 0x80) | 0x80;
    m = Math.floor(m / 0x80);
  }
  buf[p++] = m;
  return p;
}

/** Result of {@link readVarint} / {@link readVarlong}: the value and the position after it. */
export interface VarintRead {
  value: number;
  next: number;
}

/**
 * Reads a zigzag varint (at most 5 bytes) from `buf[p, end)`. Returns undefined when the bytes
 * run out or the varint is longer than 5 bytes (the caller raises its own error). Like Kafka's
 * ByteUtils.readVarint, bits past 32 in the fifth byte are ignored.
 */
export function readVarint(buf: Uint8Array, p: number, end = buf.length): VarintRead | undefined {
  let raw = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (p >= end) return undefined;
    const b = buf[p++];
    raw |= (b & 0x7f) << shift;
    if (b < 0x80) return { value: (raw >>> 1) ^ -(raw & 1), next: p };
  }
  return undefined;
}

/**
 * Reads a zigzag varlong (at most 10 bytes) from `buf[p, end)` as a number: exact for values in
 * the safe integer range, rounded beyond it. Undefined when truncated or longer than 10 bytes.
 */
export function readVarlong(buf: Uint8Array, p: number, end = buf.length): VarintRead | undefined {
  let lo = 0; // low 28 bits
  let hi = 0; // the bits above, as a float
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (p >= end) return undefined;
    const b = buf[p++];
    if (i < 4) lo |= (b & 0x7f) << (7 * i);
    else {
      hi += (b & 0x7f) * scale;
      scale *= 0x80;
    }
    if (b < 0x80) {
      const mag = (lo >>> 1) + hi * 0x8000000; // floor(raw / 2)
      return { value: lo & 1 ? -mag - 1 : mag, next: p };
    }
  }
  return undefined;
}
