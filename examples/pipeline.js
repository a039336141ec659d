'use strict'
// A pipeline: eachBatch hands whole batches to a slower worker through a ByteQueue bounded in
// bytes. retainBatch() keeps a batch's arena memory past the handler; the worker gives it back.
// batchMemoryBytes counts the payload plus kafkajs's objects, so 16 MiB of queue is 16 MiB of memory.
//   KAFKA_BROKERS=localhost:9092 KAFKA_TOPIC=events node examples/pipeline.js
const { Kafka, CompressionCodecs, CompressionTypes, Partitioners, logLevel } = require('kafkajs')
const { Arena, ByteQueue } = require('kafka-arena')
const { registerCodecs, arenaConsumer, batchMemoryBytes } = require('kafka-arena/kafkajs')

const brokers = (process.env.KAFKA_BROKERS || 'localhost:9092').split(',')
const topic = process.env.KAFKA_TOPIC || 'events'
const runId = `run-${process.pid}-${Date.now()}`
const count = 5000

async function produce(kafka) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  for (let start = 0; start < count; start += 1000) {
    const messages = []
    for (let i = start; i < start + 1000; i++) messages.push({ value: JSON.stringify({ runId, i, amount: i % 100 }) })
    await producer.send({ topic, compression: CompressionTypes.ZSTD, messages })
  }
  await producer.disconnect()
}

async function main() {
  registerCodecs(CompressionCodecs)
  const kafka = new Kafka({ clientId: 'pipeline-example', brokers, logLevel: logLevel.WARN })
  await produce(kafka)

  const arena = new Arena({ maxBytes: 64 * 1024 * 1024 })
  const consumer = kafka.consumer({ groupId: `${runId}-group`, maxWaitTimeInMs: 500 })
  const helper = arenaConsumer(consumer, { arena })
  const queue = new ByteQueue({ capacityBytes: 16 << 20 })

  // The worker: processes batches in order, then gives their memory back.
  let processed = 0
  let total = 0
  const worker = (async () => {
    for await (const item of queue) {
      for (const message of item.messages) {
        const event = JSON.parse(message.value.toString())
        if (event.runId !== runId) continue
        total += event.amount
        processed++
      }
      item.release()
      await new Promise((resolve) => setTimeout(resolve, 5)) // the slow part
      if (processed === count) queue.close()
    }
  })()

  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await helper.run({
    eachBatch: async ({ batch, retainBatch }) => {
      const release = retainBatch() // keep this batch's memory until the worker calls release()
      try {
        await queue.push({ messages: batch.messages, release }, batchMemoryBytes(batch.messages)) // waits while full
      } catch (err) {
        release() // the queue was closed: nobody will process it
        if (err.code !== 'ERR_QUEUE_CLOSED') throw err
      }
    },
  })
  await worker
  await consumer.disconnect()
  for (const item of queue.drain()) item.release()
  helper.close()
  console.log(`processed ${processed} messages, amount total ${total}`)
  console.log(`queue high water ${queue.stats().highWaterBytes} bytes, arena leased now ${arena.stats().leasedBytes} bytes`)
}

main().catch((err) => { console.error(err); process.exit(1) })
setTimeout(() => { console.error('timed out after 60 s'); process.exit(1) }, 60_000).unref() // never hang
