// The README's quick start, complete: consume a topic with the recycling consumer and print each
// event. It stops by itself after QUICK_START_SECONDS (default 15).
//   KAFKA_BROKERS=localhost:9092 KAFKA_TOPIC=events node examples/quick-start.mjs
import kafkajs from 'kafkajs' // a CommonJS package: import the default, then destructure
import { Arena } from 'kafka-arena'
import { registerCodecs, arenaConsumer } from 'kafka-arena/kafkajs'
const { Kafka, CompressionCodecs } = kafkajs

registerCodecs(CompressionCodecs) // kafkajs learns zstd, lz4, snappy, gzip
const kafka = new Kafka({ brokers: (process.env.KAFKA_BROKERS || 'localhost:9092').split(',') })
const consumer = kafka.consumer({ groupId: 'quick-start' })
const helper = arenaConsumer(consumer, { arena: new Arena({ maxBytes: 64 << 20 }) })
await consumer.connect()
await consumer.subscribe({ topic: process.env.KAFKA_TOPIC || 'events', fromBeginning: true })
await helper.run({
  eachMessage: async ({ message }) => console.log(JSON.parse(message.value.toString())), // copy what you keep
})

setTimeout(async () => {
  await consumer.disconnect()
  helper.close()
}, (Number(process.env.QUICK_START_SECONDS) || 15) * 1000)
