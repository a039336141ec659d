'use strict'
// The arena on its own: a budget of pooled ArrayBuffers handed out as leases. acquire() waits
// (FIFO) while the budget is full; the last release() recycles the memory and revokes every view.
// A ByteQueue bounded in bytes carries leases from a producer to a consumer.
//   node examples/arena.js
const { Arena, ByteQueue } = require('kafka-arena')

async function main() {
  const arena = new Arena({ maxBytes: 4 << 20 })             // 4 MiB budget

  const lease = await arena.acquire(1 << 20)                // waits (FIFO) while the budget is full
  const view = lease.bytes                                  // a Buffer of exactly 1 MiB
  view.fill(7)
  lease.retain()                                            // a second owner
  lease.release()                                           // still held by the second owner
  lease.release()                                           // the last release recycles and revokes
  console.log(`after release the old view has length ${view.length}`)
  try {
    lease.release()
  } catch (err) {
    console.log(`releasing again: ${err.code}`)              // ERR_DOUBLE_RELEASE
  }

  console.log(`tryAcquire(8 MiB) over the budget: ${arena.tryAcquire(8 << 20)}`) // undefined instead of waiting

  // A producer and a consumer of leases, bounded to 2 MiB in flight.
  const queue = new ByteQueue({ capacityBytes: 2 << 20 })   // items with a `lease` count its capacity
  const consumer = (async () => {
    let items = 0
    let sum = 0
    for await (const item of queue) {
      sum += item.lease.bytes[0]
      item.lease.release()
      items++
    }
    return { items, sum }
  })()
  for (let i = 0; i < 20; i++) {
    const lease = await arena.acquire(256 << 10)
    lease.bytes[0] = i
    await queue.push({ lease, seq: i })                     // waits while 2 MiB are queued
  }
  queue.close()
  const { items, sum } = await consumer
  const s = arena.stats()
  console.log(`queue: ${items} items, sum ${sum}, highest ${queue.stats().highWaterBytes} bytes queued`)
  console.log(`arena: ${s.acquires} acquires, ${s.poolHits} from the pool, ${s.allocations} allocations, ${s.leasedBytes} bytes leased now`)
  arena.close()
}

main().catch((err) => { console.error(err); process.exit(1) })
