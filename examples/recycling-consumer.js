'use strict'
// The recycling consumer: fetched batches are decompressed into a 64 MiB arena and given back as
// soon as the handler is done with them; past 75 % of the budget the consumer pauses its partitions.
// Produces 2,000 zstd events, consumes them with eachMessage, keeps the keys of purchases (copied),
// and prints what the helper did.
//   KAFKA_BROKERS=localhost:9092 KAFKA_TOPIC=events node examples/recycling-consumer.js
const { Kafka, CompressionCodecs, CompressionTypes, Partitioners, logLevel } = require('kafkajs')
const { Arena } = require('kafka-arena')
const { registerCodecs, arenaConsumer, detachMessage } = require('kafka-arena/kafkajs')

const brokers = (process.env.KAFKA_BROKERS || 'localhost:9092').split(',')
const topic = process.env.KAFKA_TOPIC || 'events'
const runId = `run-${process.pid}-${Date.now()}`
const count = 2000

async function produce(kafka) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const messages = []
  for (let i = 0; i < count; i++) {
    const type = i % 8 === 0 ? 'purchase' : 'view'
    messages.push({ key: `${runId}:${i}`, value: JSON.stringify({ runId, i, type, user: `u${i % 97}` }) })
  }
  await producer.send({ topic, compression: CompressionTypes.ZSTD, messages })
  await producer.disconnect()
}

async function main() {
  const kafka = new Kafka({ clientId: 'recycling-example', brokers, logLevel: logLevel.WARN })
  registerCodecs(CompressionCodecs) // the arena codecs: required, or kafkajs cannot read zstd at all
  await produce(kafka)

  const arena = new Arena({ maxBytes: 64 * 1024 * 1024 })
  const consumer = kafka.consumer({ groupId: `${runId}-group`, maxWaitTimeInMs: 500 })
  const helper = arenaConsumer(consumer, { arena }) // pauses at 75 % of the budget, resumes at 40 %
  const purchases = new Map() // outlives the handler: holds copies, never arena views
  let seen = 0
  let done
  const finished = new Promise((resolve) => (done = resolve))

  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await helper.run({
    eachMessage: async ({ message }) => {
      const event = JSON.parse(message.value.toString()) // a view of arena memory: read it here
      if (event.runId !== runId) return // older runs of this example
      if (event.type === 'purchase') purchases.set(message.key.toString(), detachMessage(message))
      if (++seen === count) done()
    },
  })
  await finished
  await consumer.disconnect()
  helper.close()

  const s = helper.stats()
  console.log(`consumed ${seen} messages, kept ${purchases.size} purchases`)
  console.log(`leases created ${s.leasesCreated}, held now ${s.held}, arena leased bytes ${arena.stats().leasedBytes}`)
  const kept = purchases.values().next().value
  console.log(`a kept purchase is still readable: ${JSON.parse(kept.value.toString()).type}`)
}

main().catch((err) => { console.error(err); process.exit(1) })
setTimeout(() => { console.error('timed out after 60 s'); process.exit(1) }, 60_000).unref() // never hang
