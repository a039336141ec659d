'use strict'
// Decompression on another core: a WorkerPool fills arena leases on worker threads, so the main
// thread keeps decoding records (and serving its event loop) while the next batches decompress.
//   node examples/worker-pool.js
const { WorkerPool, Arena, zstd, encodeRecordBatch } = require('kafka-arena')

async function main() {
  const pool = new WorkerPool()                              // availableParallelism() - 1 workers, at least 1
  const arena = new Arena({ maxBytes: 64 << 20 })

  const event = (i) => JSON.stringify({ i, type: i % 3 ? 'view' : 'purchase', user: `u${i % 50}` })
  const raw = Buffer.from(Array.from({ length: 5000 }, (_, i) => event(i)).join('\n'))
  const lease = await pool.decompress('zstd', zstd.compress(raw), { arena }) // like zstd.decompress(..., { arena })
  console.log(`one batch on a worker: ${lease.length} bytes, same as the input: ${lease.bytes.equals(raw)}`)
  lease.release()

  // A log segment's worth of record batches, decoded in order while the next ones decompress.
  // (A batch under 8 KiB compressed, with zstd, is not worth a worker: it is decoded on this thread.)
  const batches = []
  for (let b = 0; b < 20; b++) {
    const records = Array.from({ length: 5000 }, (_, i) => ({ offsetDelta: i, value: event(b * 5000 + i) }))
    batches.push(encodeRecordBatch(records, { baseOffset: BigInt(b * 5000), compression: 'zstd' }))
  }
  let records = 0
  let purchases = 0
  // callerHelps: this loop is CPU-bound, so while it waits this thread may decode some of the
  // queued batches itself (its event loop is busy meanwhile; leave it out in a latency-bound service).
  for await (const batch of pool.decodeRecordBatches(Buffer.concat(batches), { arena, maxInFlightBytes: 8 << 20, callerHelps: true })) {
    for (const record of batch) {
      records++
      if (record.value.includes('"purchase"')) purchases++
    }
    batch.release()                                         // its lease goes back to the arena
  }
  console.log(`${records} records in order, ${purchases} purchases; arena leased now ${arena.leasedBytes} bytes`)
  await pool.close()
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
