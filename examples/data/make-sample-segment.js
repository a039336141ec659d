'use strict'
// Writes examples/data/sample.log: a small Kafka log segment (concatenated RecordBatch v2, as a
// broker stores them in 00000000000000000000.log) made with kafka-arena's own encoder. Six batches,
// one per compression (none, gzip, snappy, lz4, zstd) plus a transactional one, 20 JSON events
// each, keys and a header, with fixed timestamps so the file is the same on every run.
//   node examples/data/make-sample-segment.js [output file]
const fs = require('node:fs')
const path = require('node:path')
const { encodeRecordBatch } = require('kafka-arena')

const compressions = ['none', 'gzip', 'snappy', 'lz4', 'zstd', 'zstd']
const baseTimestamp = Date.UTC(2026, 0, 1)
const perBatch = 20
const types = ['view', 'click', 'purchase', 'search']

const batches = compressions.map((compression, b) => {
  const records = []
  for (let i = 0; i < perBatch; i++) {
    const n = b * perBatch + i
    const value = { n, type: types[n % types.length], user: `u${(n * 37) % 101}`, amount: (n * 7) % 50 }
    records.push({ key: `user-${value.user}`, value: JSON.stringify(value), timestamp: baseTimestamp + n * 1000, headers: { source: 'sample' } })
  }
  const transactional = b === compressions.length - 1
  const options = { compression, baseOffset: b * perBatch, baseTimestamp, ...(transactional ? { transactional, producerId: 7, producerEpoch: 0 } : {}) }
  return encodeRecordBatch(records, options)
})

const out = process.argv[2] || path.join(__dirname, 'sample.log')
fs.writeFileSync(out, Buffer.concat(batches))
console.log(`wrote ${path.relative(process.cwd(), out)}: ${batches.length} batches, ${compressions.length * perBatch} records, ${fs.statSync(out).size} bytes`)
