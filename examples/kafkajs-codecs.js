'use strict'
// kafkajs with kafka-arena's codecs: one line gives kafkajs ZSTD, LZ4, Snappy and GZIP, for
// producers (compress) and consumers (decompress). Produces 100 messages with each codec and reads
// them back with a plain kafkajs consumer.
//   KAFKA_BROKERS=localhost:9092 KAFKA_TOPIC=events node examples/kafkajs-codecs.js
const { Kafka, CompressionCodecs, CompressionTypes, Partitioners, logLevel } = require('kafkajs')
const { registerCodecs } = require('kafka-arena/kafkajs')

registerCodecs(CompressionCodecs) // ZSTD, LZ4, Snappy, GZIP; producers compress, consumers decompress

const brokers = (process.env.KAFKA_BROKERS || 'localhost:9092').split(',')
const topic = process.env.KAFKA_TOPIC || 'events'
const runId = `run-${process.pid}-${Date.now()}`
const codecs = ['ZSTD', 'LZ4', 'Snappy', 'GZIP']
const perCodec = 100

async function main() {
  const kafka = new Kafka({ clientId: 'kafkajs-codecs-example', brokers, logLevel: logLevel.WARN })
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  for (const codec of codecs) {
    const messages = []
    for (let i = 0; i < perCodec; i++) {
      messages.push({ key: `${runId}:${codec}:${i}`, value: JSON.stringify({ codec, i, text: 'hello '.repeat(20) }) })
    }
    await producer.send({ topic, compression: CompressionTypes[codec], messages })
  }
  await producer.disconnect()

  const consumer = kafka.consumer({ groupId: `${runId}-group`, maxWaitTimeInMs: 500 })
  const seen = new Map(codecs.map((c) => [c, 0]))
  let total = 0
  let done
  const finished = new Promise((resolve) => (done = resolve))
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!message.key || !message.key.toString().startsWith(runId)) return // older runs
      const { codec } = JSON.parse(message.value.toString())
      seen.set(codec, seen.get(codec) + 1)
      if (++total === codecs.length * perCodec) done()
    },
  })
  await finished
  await consumer.disconnect()
  for (const [codec, n] of seen) console.log(`${codec}: ${n} messages`)
  console.log(`consumed ${total} messages`)
}

main().catch((err) => { console.error(err); process.exit(1) })
setTimeout(() => { console.error('timed out after 60 s'); process.exit(1) }, 60_000).unref() // never hang
