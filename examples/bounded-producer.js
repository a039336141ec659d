'use strict'
// A producer that cannot outrun the broker: the source loop waits for room (ready()) before it
// builds the next record, sends without awaiting, and flush() waits for everything sent so far.
// At most maxInFlightBytes of payload is unacknowledged at any time.
//   KAFKA_BROKERS=localhost:9092 KAFKA_TOPIC=events node examples/bounded-producer.js
const { Kafka, CompressionCodecs, CompressionTypes, Partitioners, logLevel } = require('kafkajs')
const { registerCodecs, boundedProducer } = require('kafka-arena/kafkajs')

const brokers = (process.env.KAFKA_BROKERS || 'localhost:9092').split(',')
const topic = process.env.KAFKA_TOPIC || 'events'
const records = 200 // sends of 100 messages each

let next = 0
function nextRecord() {
  const messages = []
  for (let i = 0; i < 100; i++, next++) messages.push({ value: JSON.stringify({ i: next, text: 'x'.repeat(200) }) })
  return { topic, compression: CompressionTypes.ZSTD, messages }
}

async function endOffsets(admin) {
  const offsets = await admin.fetchTopicOffsets(topic)
  return offsets.reduce((sum, p) => sum + Number(p.high), 0)
}

async function main() {
  registerCodecs(CompressionCodecs)
  const kafka = new Kafka({ clientId: 'bounded-producer-example', brokers, logLevel: logLevel.WARN })
  const admin = kafka.admin()
  await admin.connect()
  const before = await endOffsets(admin)

  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const bounded = boundedProducer(producer, { maxInFlightBytes: 1 << 20 }) // default 8 MiB
  const onError = (err) => console.error('send failed:', err.message) // flush() rejects too

  for (let n = 0; n < records; n++) {
    await bounded.ready() // wait for room before building the next record
    bounded.send(nextRecord()).catch(onError)
  }
  await bounded.flush() // everything sent so far is acknowledged (or the first failure throws)

  const s = bounded.stats()
  console.log(`sent ${s.sent} records, ${s.failed} failed, ${s.inFlightBytes} bytes in flight after flush()`)
  console.log(`highest in flight: ${s.highWaterBytes} bytes (bound ${bounded.maxInFlightBytes})`)
  console.log(`broker received ${(await endOffsets(admin)) - before} messages`)
  await producer.disconnect()
  await admin.disconnect()
}

main().catch((err) => { console.error(err); process.exit(1) })
setTimeout(() => { console.error('timed out after 60 s'); process.exit(1) }, 60_000).unref() // never hang
