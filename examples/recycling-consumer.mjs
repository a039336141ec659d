// The recycling consumer as an ES module (examples/quick-start.mjs is the shortest one). To run
// on its own it first produces `count` zstd events, and it stops once it has read them.
//   KAFKA_BROKERS=localhost:9092 KAFKA_TOPIC=events node examples/recycling-consumer.mjs
import kafkajs from 'kafkajs' // a CommonJS package: import the default, then destructure
import { Arena } from 'kafka-arena'
import { registerCodecs, arenaConsumer } from 'kafka-arena/kafkajs'
const { Kafka, CompressionCodecs } = kafkajs

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
function handle(event) {
  if (event.runId === runId && ++seen === count) done()
}

registerCodecs(CompressionCodecs) // kafkajs learns zstd, lz4, snappy, gzip
const kafka = new Kafka({ brokers, logLevel: kafkajs.logLevel.WARN })
await produce(kafka)

const consumer = kafka.consumer({ groupId: 'quick-start', maxWaitTimeInMs: 500 })
const helper = arenaConsumer(consumer, { arena: new Arena({ maxBytes: 64 << 20 }) })
await consumer.connect()
await consumer.subscribe({ topic, fromBeginning: true })
await helper.run({
  eachMessage: async ({ message }) => handle(JSON.parse(message.value.toString())), // copy what you keep
})

await finished
await consumer.disconnect()
helper.close()
clearTimeout(timeout)
console.log(`consumed ${seen} messages; leases held now: ${helper.stats().held}`)

async function produce(kafka) {
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner })
  await producer.connect()
  const messages = Array.from({ length: count }, (_, i) => ({ value: JSON.stringify({ runId, i }) }))
  await producer.send({ topic, compression: kafkajs.CompressionTypes.ZSTD, messages })
  await producer.disconnect()
}
