// The codecs in TypeScript (CommonJS project, `import` compiled to require). Checked by
// `tsc --strict` in `npm test`; runs as is on Node >= 23.6 (type stripping).
//   node examples/codecs.ts
import { zstd, lz4, Arena, Lease, KafkaArenaError, type SizeHint } from 'kafka-arena'

const raw: Buffer = Buffer.from('{"type":"view","user":"u1"}\n'.repeat(500))
const arena = new Arena({ maxBytes: 16 << 20 })

const packed: Buffer = zstd.compress(raw, { level: 3 })
const hint: SizeHint = zstd.decompressedSize(packed)
const lease: Lease = zstd.decompress(packed, { arena }) // the arena overload returns a Lease
console.log(`zstd: ${packed.length} bytes -> ${lease.length} (${hint.exact ? 'exact size' : 'bound'} ${hint.bytes})`)
lease.release()

const owned: Buffer = lz4.decompress(lz4.compress(raw)) // without an arena: a Buffer
console.log(`lz4: round trip ${owned.equals(raw) ? 'ok' : 'FAILED'}`)

try {
  void lease.bytes // used after release(): throws
} catch (err) {
  if (!(err instanceof KafkaArenaError)) throw err
  console.log(`after release: ${err.code}`)
}
