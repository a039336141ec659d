/**
 * Codec benchmark: decompression and compression MB/s (of uncompressed bytes) on JSON events at
 * 4 KiB, 16 KiB, 256 KiB and 1 MiB, kafka-arena (arena path: decompress into a lease, release)
 * against every peer, in one process.
 *   node build/bench/codecs.js [--quick]
 */
import * as zlib from 'node:zlib';
import { Arena, gzip, lz4, snappy, zstd } from '../src';
import type { Codec } from '../src';
import { loadLz4Wasm } from './peers/lz4-wasm';
import { loadBokuwebZstd } from '../src/codecs/zstd-engine';
import { BenchCase, BenchResult, SIZES, barChartSvg, fmt, jsonEvents, machine, pivotTable, printRun, runCases, writeResults, writeSvg } from './lib';

/* eslint-disable @typescript-eslint/no-var-requires */
const zstdNapi = require('zstd-napi');
const fzstd = require('fzstd');
/** A native peer built for another Node ABI (the `lz4` addon uses nan) is left out, said once. */
function optionalPeer<T>(name: string): T | undefined {
  try {
    return require(name) as T;
  } catch (err) {
    console.error(`peer ${name} unavailable on Node ${process.version}: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}
const lz4Addon = optionalPeer<{ decode(b: Buffer): Buffer; encode(b: Buffer): Buffer }>('lz4');
const lz4js = require('lz4js');
const snappyNapi = require('snappy');
const snappyjs = require('snappyjs');
const wasmUtils = require('@platformatic/wasm-utils');

interface Peer {
  name: string;
  /** Its own input format, when it cannot read the Kafka one (lz4-wasm's size-prefixed blocks). */
  input?: (raw: Buffer) => Uint8Array;
  decompress?: (input: Buffer, size: number) => void;
  compress?: (raw: Buffer) => Buffer;
}

function ours(codec: Codec, arena: Arena, level?: number): Peer {
  return {
    name: 'kafka-arena',
    decompress: (input) => {
      const lease = codec.decompress(input, { arena });
      lease.release();
    },
    compress: (raw) => codec.compress(raw, level === undefined ? undefined : { level }),
  };
}

/**
 * Not a usable codec: the one ZSTD_decompress_usingDict call of the @bokuweb binary on input staged
 * in its memory once, with no copies in or out and no output handed over. It is the floor any
 * wrapper of that binary (ours, or bokuweb's own glue) pays, so it shows how far a wrapper can go.
 */
function libzstdCallAlone(): Peer {
  const z = loadBokuwebZstd();
  const dctx = z.createDCtx();
  const staged = new Map<Buffer, { src: number; dst: number; cap: number }>();
  return {
    name: 'libzstd call alone (same binary, no copies)',
    decompress: (input, size) => {
      let s = staged.get(input);
      if (s === undefined) {
        s = { src: z.malloc(input.length), dst: z.malloc(size), cap: size };
        z.heap.u8().set(input, s.src);
        staged.set(input, s);
      }
      const n = z.decompressUsingDict(dctx, s.dst, s.cap, s.src, input.length, 0, 0);
      if (n !== size) throw new Error(`libzstd returned ${n}, expected ${size}`);
    },
  };
}

async function loadBokuweb(): Promise<{ decompress(b: Uint8Array): Uint8Array; compress(b: Uint8Array, level: number): Uint8Array }> {
  const boku = require('@bokuweb/zstd-wasm');
  await boku.init();
  return boku;
}

export async function run(): Promise<string> {
  const arena = new Arena({ maxBytes: 64 << 20, trimIntervalMs: 0 });
  const boku = await loadBokuweb();
  const lz4wasm = await loadLz4Wasm();
  const zstdNode = (zlib as unknown as { zstdDecompressSync?: (b: Buffer) => Buffer; zstdCompressSync?: (b: Buffer, o?: unknown) => Buffer });

  const only = process.argv.find((a) => a.startsWith('--codec='))?.slice('--codec='.length);
  const codecs: Array<{ codec: string; input: (raw: Buffer) => Buffer; peers: Peer[] }> = [
    {
      codec: 'zstd',
      input: (raw) => zstdNapi.compress(raw, { compressionLevel: 3 }),
      peers: [
        ours(zstd, arena, 3),
        { name: '@bokuweb/zstd-wasm', decompress: (b) => void boku.decompress(b), compress: (raw) => Buffer.from(boku.compress(raw, 3)) },
        libzstdCallAlone(),
        { name: 'zstd-napi (native)', decompress: (b) => void zstdNapi.decompress(b), compress: (raw) => zstdNapi.compress(raw, { compressionLevel: 3 }) },
        { name: 'fzstd', decompress: (b) => void fzstd.decompress(b) },
        ...(zstdNode.zstdDecompressSync
          ? [{ name: 'node:zlib zstd (native)', decompress: (b: Buffer) => void zstdNode.zstdDecompressSync!(b), compress: (raw: Buffer) => zstdNode.zstdCompressSync!(raw) }]
          : []),
      ],
    },
    {
      codec: 'lz4',
      // Frames as the Java producer writes them: 64 KiB independent blocks. (The lz4 addon's own
      // encoder writes 4 MiB blocks, which makes block-buffer-allocating decoders look slow at
      // small sizes for a reason Kafka traffic does not have.)
      input: (raw) => lz4.compress(raw),
      peers: [
        ours(lz4, arena),
        { name: '@platformatic/wasm-utils', decompress: (b) => void wasmUtils.lz4Decompress(b), compress: (raw) => wasmUtils.lz4Compress(raw) },
        ...(lz4Addon ? [{ name: 'lz4 addon (kafkajs-lz4)', decompress: (b: Buffer) => void lz4Addon.decode(b), compress: (raw: Buffer) => lz4Addon.encode(raw) }] : []),
        { name: 'lz4js', decompress: (b) => void lz4js.decompress(b), compress: (raw) => Buffer.from(lz4js.compress(raw)) },
        {
          name: 'lz4-wasm (size-prefixed block)',
          input: (raw) => lz4wasm.compress(raw),
          decompress: (b) => void lz4wasm.decompress(b),
          compress: (raw) => Buffer.from(lz4wasm.compress(raw)),
        },
      ],
    },
    {
      codec: 'snappy',
      input: (raw) => snappyNapi.compressSync(raw),
      peers: [
        ours(snappy, arena),
        { name: '@platformatic/wasm-utils', decompress: (b) => void wasmUtils.snappyDecompress(b), compress: (raw) => wasmUtils.snappyCompress(raw) },
        { name: 'snappyjs (kafkajs-snappy)', decompress: (b) => void snappyjs.uncompress(b), compress: (raw) => Buffer.from(snappyjs.compress(raw)) },
        { name: 'snappy (napi)', decompress: (b) => void snappyNapi.uncompressSync(b), compress: (raw) => snappyNapi.compressSync(raw) },
      ],
    },
    {
      codec: 'gzip',
      input: (raw) => zlib.gzipSync(raw),
      peers: [ours(gzip, arena), { name: 'node:zlib (gunzipSync / gzipSync)', decompress: (b) => void zlib.gunzipSync(b), compress: (raw) => zlib.gzipSync(raw) }],
    },
  ];

  const sections: string[] = [`Node ${machine().node}, ${machine().cpu}, ${machine().cores} cores. MB/s of uncompressed bytes; ratio = ours ÷ peer.`];
  const all: Record<string, { decompress: BenchResult[]; compress: BenchResult[]; ratios: Record<string, number> }> = {};
  for (const { codec, input, peers } of codecs.filter((c) => !only || only.split(',').includes(c.codec))) {
    const dCases: BenchCase[] = [];
    const cCases: BenchCase[] = [];
    const ratios: Record<string, number> = {};
    for (const [label, size] of SIZES) {
      const raw = jsonEvents(size);
      const compressed = input(raw);
      for (const p of peers) {
        const own = p.input ? Buffer.from(p.input(raw)) : compressed;
        if (p.decompress) dCases.push({ group: label, name: p.name, fn: () => p.decompress!(own, size), bytes: size });
        if (p.compress) {
          const out = p.compress(raw);
          ratios[`${label}|${p.name}`] = raw.length / out.length;
          cCases.push({ group: label, name: p.name, fn: () => void p.compress!(raw), bytes: size });
        }
      }
    }
    const decompress = await runCases(dCases);
    const compress = await runCases(cCases);
    all[codec] = { decompress, compress, ratios };
    const oursOf = (rs: BenchResult[], g: string) => rs.find((r) => r.group === g && r.name === 'kafka-arena')?.mbPerSec ?? NaN;
    const cellWithRatio = (rs: BenchResult[]) => (r: BenchResult) =>
      r.name === 'kafka-arena' ? `**${fmt(r.mbPerSec)}**` : `${fmt(r.mbPerSec)} (${fmt(oursOf(rs, r.group) / (r.mbPerSec ?? NaN), 2)}×)`;
    sections.push(`### ${codec}: decompress MB/s (ours ÷ peer)\n\n${pivotTable(decompress, cellWithRatio(decompress), 'size')}`);
    sections.push(
      `### ${codec}: compress MB/s and ratio\n\n${pivotTable(compress, (r) => `${fmt(r.mbPerSec)} · ${fmt(ratios[`${r.group}|${r.name}`], 2)}×`, 'size')}`,
    );
    writeSvg(`codecs-${codec}-decompress`, barChartSvg(`${codec} decompression, MB/s (higher is better)`, 'MB/s', decompress, (r) => r.mbPerSec));
    writeResults(`codecs-${codec}`, all[codec], [sections[0], ...sections.slice(-2)].join('\n\n'));
  }
  const md = sections.join('\n\n');
  if (!only) writeResults('codecs', all, md);
  arena.close();
  return md;
}

if (require.main === module) printRun(run);
