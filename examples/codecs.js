'use strict'
// The codecs on their own: synchronous, sized from the headers before any work, capped against
// decompression bombs (maxOutputBytes), and able to decompress straight into an arena lease.
//   node examples/codecs.js
const { zstd, lz4, snappy, gzip, Arena } = require('kafka-arena')

const raw = Buffer.from(JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ i, type: 'view', user: `u${i % 50}` }))))
const arena = new Arena({ maxBytes: 16 << 20 })

for (const codec of [zstd, lz4, snappy, gzip]) {
  const packed = codec.compress(raw)                        // a Buffer; zstd level 3, gzip 6 by default
  const { bytes, exact } = codec.decompressedSize(packed)   // from the headers, before any work
  const lease = codec.decompress(packed, { arena })         // a Lease of exactly the output
  const same = lease.bytes.equals(raw)
  lease.release()                                           // back to the pool; the view is revoked
  const owned = codec.decompress(packed)                    // a Buffer you own
  const into = codec.decompress(packed, { out: Buffer.alloc(raw.length) }) // into your buffer
  console.log(`${codec.name}: ${raw.length} -> ${packed.length} bytes, size ${exact ? 'exact' : 'bound'} ${bytes}, round trip ${same && owned.equals(raw) && into.equals(raw) ? 'ok' : 'FAILED'}`)
}

try {
  zstd.decompress(zstd.compress(raw), { maxOutputBytes: 1024 }) // a decompression bomb, as far as we know
} catch (err) {
  console.log(`over the cap: ${err.code}`)                   // ERR_OUTPUT_LIMIT, before any large allocation
}
