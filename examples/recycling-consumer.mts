// The recycling consumer in TypeScript (ES module). Checked by `tsc --strict` in `npm test`; runs
// as is on Node >= 23.6 (type stripping), or compile it with tsc.
//   KAFKA_BROKERS=localhost:9092 KAFKA_TOPIC=events node examples/recycling-consumer.mts
import kafkajs from 'kafkajs' // a CommonJS package: import the default, then destructure
import { Arena } from 'kafka-arena'
import { registerCodecs, arenaConsumer, detachMessage } from 'kafka-arena/kafkajs'

const { Kafka, CompressionCodecs, CompressionTypes, Partitioners, logLevel } = kafkajs

const brokers = (process.env.KAFKA_BROKERS || 'localhost:9092').split(',')
const topic = process.env.KAFKA_TOPIC || 'events'
const runId = `run-${process.pid}-${Date.now()}`
const count = 1000

registerCodecs(CompressionCodecs)
const kafka = new Kafka({ brokers, logLevel: logLevel.WARN })

const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
await producer.connect()
const messages = Array.from({ length: count }, (_, i) => ({ key: `${runId}:${i}`, value: JSON.stringify({ runId, i }) }))
await producer.send({ topic, compression: CompressionTypes.ZSTD, messages })
await producer.disconnect()

const consumer = kafka.consumer({ groupId: `${runId}-group`, maxWaitTimeInMs: 500 })
const helper = arenaConsumer(consumer, { arena: new Arena({ maxBytes: 64 * 1024 * 1024 }) })
const keys = new Set<string>()
const lastByKey = new Map<string, ReturnType<typeof detachMessage>>()
let seen = 0
let done = (): void => undefined
const finished = new Promise<void>((resolve) => (done = resolve))
const timeout = setTimeout(() => {
  console.error('timed out after 60 s')
  process.exit(1)
}, 60_000)

await consumer.connect()
await consumer.subscribe({ topic, fromBeginning: true })
await helper.run({
  eachMessage: async ({ message }) => {
    if (message.key === null || message.value === null) return // key and value are Buffer | null
    const key = message.key.toString()
    if (!key.startsWith(runId)) return
    keys.add(key) // a string: a copy
    lastByKey.set(key, detachMessage(message)) // a message whose Buffers you own
    if (++seen === count) done()
  },
})

await finished
await consumer.disconnect()
helper.close()
clearTimeout(timeout)
console.log(`consumed ${seen} messages with ${keys.size} distinct keys`)
