// The codecs as an ES module: compress JSON events with each codec, decompress into the arena.
//   node examples/codecs.mjs
import { codecs, Arena, isKafkaArenaError } from 'kafka-arena'

const raw = Buffer.from(JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ i, type: 'click' }))))
const arena = new Arena({ maxBytes: 16 << 20 })

for (const codec of Object.values(codecs)) {
  const lease = codec.decompress(codec.compress(raw), { arena })
  console.log(`${codec.name} (Kafka type ${codec.kafkaType}): round trip ${lease.bytes.equals(raw) ? 'ok' : 'FAILED'}`)
  lease.release()
}

try {
  codecs.snappy.decompress(Buffer.from('not snappy at all'))
} catch (err) {
  if (!isKafkaArenaError(err)) throw err
  console.log(`bad input: ${err.code}`)
}
