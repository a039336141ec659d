// The README's quick start, as an ES module: a recycling consumer that stops after `count`
// messages of its own. Produces them first (zstd), so it runs on an empty topic.
//   KAFKA_BROKERS=localhost:9092 KAFKA_TOPIC=events node examples/recycling-consumer.mjs
import kafkajs from 'kafkajs' // a CommonJS package: import the default, then destructure
import { Arena } from 'kafka-arena'
import { registerCodecs, arenaConsumer } from 'kafka-arena/kafkajs'

const { Kafka, CompressionCodecs, CompressionTypes, Partitioners, logLevel } = kafkajs

const brokers = (process.env.KAFKA_BROKERS || 'localhost:9092').split(',')
const topic = process.env.KAFKA_TOPIC || 'events'
const runId = `run-${process.pid}-${Date.now()}`
const count = 1000
let seen = 0
let done
const finished = new Promise((resolve) => (done = resolve))
const timeout = setTimeout(() => {
  console.error('timed out after 60 s')
  process.exit(1)
}, 60_000)

registerCodecs(CompressionCodecs) // kafkajs learns zstd, lz4, snappy, gzip
const kafka = new Kafka({ brokers, logLevel: logLevel.WARN })
await produce(kafka)

const consumer = kafka.consumer({ groupId: `${runId}-group`, maxWaitTimeInMs: 500 })
const helper = arenaConsumer(consumer, { arena: new Arena({ maxBytes: 64 * 1024 * 1024 }) })
await consumer.connect()
await consumer.subscribe({ topic, fromBeginning: true })
await helper.run({
  eachMessage: async ({ message }) => {
    const event = JSON.parse(message.value.toString()) // read the view here; copy what you keep
    if (event.runId === runId && ++seen === count) done()
  },
})

await finished
await consumer.disconnect()
helper.close()
clearTimeout(timeout)
console.log(`consumed ${seen} messages; leases held now: ${helper.stats().held}`)

async function produce(kafka) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const messages = Array.from({ length: count }, (_, i) => ({ value: JSON.stringify({ runId, i }) }))
  await producer.send({ topic, compression: CompressionTypes.ZSTD, messages })
  await producer.disconnect()
}
