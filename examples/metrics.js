'use strict'
// Exporting kafka-arena's figures with prom-client: arena bytes, the consumer's pauses, and bytes
// through each codec. Consumes 1,000 zstd events, then prints the metrics a scrape would see.
//   npm install prom-client
//   KAFKA_BROKERS=localhost:9092 KAFKA_TOPIC=events node examples/metrics.js
const client = require('prom-client')
const { Kafka, CompressionCodecs, CompressionTypes, Partitioners, logLevel } = require('kafkajs')
const { Arena } = require('kafka-arena')
const { registerCodecs, codecStats, arenaConsumer } = require('kafka-arena/kafkajs')

const brokers = (process.env.KAFKA_BROKERS || 'localhost:9092').split(',')
const topic = process.env.KAFKA_TOPIC || 'events'
const runId = `run-${process.pid}-${Date.now()}`
const count = 1000

function registerMetrics(arena, helper) {
  new client.Gauge({
    name: 'kafka_arena_leased_bytes', help: 'Arena bytes leased',
    collect() { this.set(arena.stats().leasedBytes) },
  })
  new client.Gauge({
    name: 'kafka_arena_consumer_pauses', help: 'Times the consumer paused for memory',
    collect() { this.set(helper.stats().pauses) },
  })
  const codecBytes = new client.Gauge({
    name: 'kafka_arena_codec_bytes', help: 'Codec bytes by direction', labelNames: ['codec', 'direction'],
    collect() {
      for (const [codec, s] of Object.entries(codecStats())) {
        codecBytes.set({ codec, direction: 'decompressed_in' }, s.decompressBytesIn)
        codecBytes.set({ codec, direction: 'decompressed_out' }, s.decompressBytesOut)
      }
    },
  })
}

async function main() {
  registerCodecs(CompressionCodecs)
  const kafka = new Kafka({ clientId: 'metrics-example', brokers, logLevel: logLevel.WARN })
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const messages = Array.from({ length: count }, (_, i) => ({ value: JSON.stringify({ runId, i, text: 'y'.repeat(300) }) }))
  await producer.send({ topic, compression: CompressionTypes.ZSTD, messages })
  await producer.disconnect()

  const arena = new Arena({ maxBytes: 64 * 1024 * 1024 })
  const consumer = kafka.consumer({ groupId: `${runId}-group`, maxWaitTimeInMs: 500 })
  const helper = arenaConsumer(consumer, { arena })
  registerMetrics(arena, helper)

  let seen = 0
  let done
  const finished = new Promise((resolve) => (done = resolve))
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await helper.run({
    eachMessage: async ({ message }) => {
      if (JSON.parse(message.value.toString()).runId === runId && ++seen === count) done()
    },
  })
  await finished
  await consumer.disconnect()
  helper.close()

  const text = await client.register.metrics()
  for (const line of text.split('\n')) if (line.startsWith('kafka_arena_')) console.log(line)
}

main().catch((err) => { console.error(err); process.exit(1) })
setTimeout(() => { console.error('timed out after 60 s'); process.exit(1) }, 60_000).unref() // never hang
