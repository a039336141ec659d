'use strict'
// Record batches without a client: decode a broker's log segment (concatenated RecordBatch v2)
// lazily, CRC-checked, decompressed into the arena; then encode a batch of our own.
//   node examples/record-batches.js [segment.log]     (default: examples/data/sample.log)
const fs = require('node:fs')
const path = require('node:path')
const { Arena, decodeRecordBatches, encodeRecordBatch } = require('kafka-arena')

const file = process.argv[2] || path.join(__dirname, 'data', 'sample.log')
const arena = new Arena({ maxBytes: 64 << 20 })

const result = decodeRecordBatches(fs.readFileSync(file), { arena, verifyCrc: true })
let purchases = 0
for (const batch of result) {
  console.log(`batch at offset ${batch.baseOffset}: ${batch.recordCount} records, ${batch.compression}${batch.isTransactional ? ', transactional' : ''}`)
  for (const r of batch) { // one reused cursor; keys and values are views: copy what you keep
    if (JSON.parse(r.value.toString()).type === 'purchase') purchases++
  }
}
console.log(`${result.recordCount} records, ${purchases} purchases`)
result.release() // recycles every decompressed batch
if (result.truncatedBytes) console.log(`the file ends with ${result.truncatedBytes} bytes of a partial batch`)

const bytes = encodeRecordBatch([{ key: 'k', value: 'v', headers: { trace: 'abc' } }], { compression: 'zstd' })
const [batch] = decodeRecordBatches(bytes)
const [record] = batch.records()
console.log(`encoded ${bytes.length} bytes; decoded back: ${record.key}=${record.value} trace=${record.headers[0].value}`)
