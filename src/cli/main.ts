#!/usr/bin/env node
/**
 * The `kafka-arena` command line tool.
 *
 *   kafka-arena dump <file|->   print the records of a log segment (or of stdin)
 *   kafka-arena --version       print the package version
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { integerArg } from '../validate';
import { dump, DumpFormat, openInput, READ_AHEAD_BYTES } from './dump';

/** More worker threads than this only cost memory (each loads the WASM codecs). */
const MAX_WORKERS = 64;

const USAGE = `Usage: kafka-arena dump [options] <file|->

Prints the records of a Kafka log segment (*.log: concatenated RecordBatch v2), or of
stdin with '-'. Batches are read one at a time, so files of any size stream.

Options:
  -f, --format <text|hex|json>  text (default): one line per batch, one per record, keys and
                                values as quoted UTF-8 (0x-hex when not UTF-8);
                                hex: keys and values in hex; json: one JSON object per record
                                (bytes as a UTF-8 string, or {"base64": ...} when not UTF-8).
      --no-crc                  do not verify batch CRC-32C checksums
      --max-batch-bytes <n>     largest plausible batch (default 268435456); a larger
                                length field is reported as corruption
      --workers <n>             decompress on n worker threads (0 to ${MAX_WORKERS}; default 0, on the main
                                thread) while the current batch prints, up to ${READ_AHEAD_BYTES / 1048576} MiB ahead;
                                the output is the same
      --progress / --no-progress
                                progress bar on stderr (default: when stderr is a terminal,
                                stdout is not, and the input is a file of 8 MiB or more)
  -h, --help                    this text
  -v, --version                 print the kafka-arena version

A corrupt batch (CRC mismatch, bad record, failed decompression) or one in the legacy
MessageSet format is reported on stderr with its byte position and skipped when its length
field allows finding the next batch; a broken length field or a truncated batch ends the dump.

Exit status: 0 when every batch was dumped, 1 when any problem was reported, 2 on bad usage.
`;

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: 'string', short: 'f', default: 'text' },
        'no-crc': { type: 'boolean', default: false },
        'max-batch-bytes': { type: 'string' },
        workers: { type: 'string' },
        progress: { type: 'boolean' },
        'no-progress': { type: 'boolean' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`kafka-arena: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const [command, file, ...extra] = positionals;
  if (command !== 'dump' || file === undefined || extra.length > 0) {
    process.stderr.write(command === undefined || command === 'dump' ? USAGE : `kafka-arena: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  const format = values.format as string;
  if (format !== 'text' && format !== 'hex' && format !== 'json') {
    process.stderr.write(`kafka-arena: --format must be text, hex or json, got '${format}'\n`);
    return 2;
  }
  const maxBatchBytes = values['max-batch-bytes'] === undefined ? 256 * 1024 * 1024 : Number(values['max-batch-bytes']);
  if (!Number.isSafeInteger(maxBatchBytes) || maxBatchBytes < 61) {
    process.stderr.write(`kafka-arena: --max-batch-bytes must be an integer >= 61\n`);
    return 2;
  }
  let workers: number;
  try {
    // Digits only: Number() would also take '', '1e1' and '0x2'.
    const w = values.workers;
    workers = integerArg('--workers', w !== undefined && /^[0-9]+$/.test(w) ? Number(w) : w, 0, MAX_WORKERS, 0);
  } catch (e) {
    process.stderr.write(`kafka-arena: ${(e as Error).message}\n`);
    return 2;
  }

  let input;
  try {
    input = openInput(file);
  } catch (e) {
    process.stderr.write(`kafka-arena: cannot read ${file}: ${(e as Error).message}\n`);
    return 1;
  }
  const autoProgress = process.stderr.isTTY === true && process.stdout.isTTY !== true && (input.size ?? 0) >= 8 * 1024 * 1024;
  const progress = values['no-progress'] ? false : (values.progress ?? autoProgress);

  // A closed pipe (`| head`) ends the dump quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    const summary = await dump(input.stream, process.stdout, process.stderr, input.size, {
      format: format as DumpFormat,
      verifyCrc: !values['no-crc'],
      maxBatchBytes,
      progress,
      workers,
    });
    if (format !== 'json') {
      process.stdout.write(`# ${summary.batches} batches, ${summary.records} records, ${summary.bytes} bytes${summary.errors ? `, ${summary.errors} problems (see stderr)` : ''}\n`);
    }
    return summary.errors > 0 ? 1 : 0;
  } catch (e) {
    process.stderr.write(`kafka-arena: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

/** The version in the package's package.json (build/src/cli/ -> the package root). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`kafka-arena: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
