"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.KcatStream = void 0;
/**
 * A continuous, rate-limited producer for the soak: kcat (librdkafka) reading newline-delimited
 * JSON events from its stdin. It runs in its own process, so its memory never shows in the
 * measured consumer's figures, and librdkafka compresses in C, so it easily outpaces a slow
 * Node consumer.
 *
 * Events are cut from a pre-generated pool (jsonEvent lines, unique ids within the pool), written
 * every tick up to the target rate; when kcat cannot keep up (stdin backpressure) ticks are
 * skipped, so the effective rate is min(target, what kcat and the broker accept).
 */
const node_child_process_1 = require("node:child_process");
const lib_1 = require("../lib");
/** Distinct events in the pool; a batch never repeats an event (keeps compression ratios honest). */
const POOL_BYTES = 24 * 1024 * 1024;
const TICK_MS = 50;
const CYCLE_DIGITS = 6;
const pools = new Map();
function pool(keys) {
    let p = pools.get(keys);
    if (p)
        return p;
    const rand = (0, lib_1.prng)(keys ? 7 : 3);
    const parts = [];
    const ends = [];
    const cycleAt = [];
    let len = 0;
    for (let i = 0; len < POOL_BYTES; i++) {
        const event = (0, lib_1.jsonEvent)(rand, i);
        // The key is a pass number plus the event id (as a dedupe cache would use it), ~24 bytes.
        const line = keys ? `${'0'.repeat(CYCLE_DIGITS)}-${JSON.parse(event).id}\t${event}\n` : `${event}\n`;
        cycleAt.push(len);
        parts.push(line);
        len += Buffer.byteLength(line);
        ends.push(len);
    }
    p = { data: Buffer.from(parts.join('')), ends: Uint32Array.from(ends), cycleAt: keys ? Uint32Array.from(cycleAt) : undefined };
    pools.set(keys, p);
    return p;
}
/** A running kcat producer. */
class KcatStream {
    child;
    timer;
    pool;
    line = 0;
    pass = 0;
    blocked = false;
    stderr = '';
    exited;
    exitInfo;
    /** Lines handed to kcat. */
    written = 0;
    /** Payload bytes handed to kcat. */
    bytesWritten = 0;
    constructor(opts) {
        this.pool = pool(opts.keys ?? false);
        const props = {
            'compression.codec': opts.codec,
            'linger.ms': 200,
            'batch.num.messages': 1000000,
            'queue.buffering.max.kbytes': 65536,
            ...(opts.properties ?? {}),
        };
        const args = ['-P', '-q', '-b', opts.bootstrap.join(','), '-t', opts.topic, '-D', '\\n'];
        if (opts.keys)
            args.push('-K', '\\t');
        for (const [k, v] of Object.entries(props))
            args.push('-X', `${k}=${v}`);
        this.child = (0, node_child_process_1.spawn)('kcat', args, { stdio: ['pipe', 'ignore', 'pipe'] });
        this.child.stdin.on('error', () => undefined);
        this.child.stderr.on('data', (d) => (this.stderr = (this.stderr + d.toString()).slice(-4096)));
        this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => {
            this.exitInfo = `code ${code} signal ${signal}`;
            resolve();
        }));
        const bytesPerTick = (opts.mbPerSec * 1e6 * TICK_MS) / 1000;
        this.child.stdin.on('drain', () => (this.blocked = false));
        this.timer = setInterval(() => this.tick(bytesPerTick), TICK_MS);
    }
    tick(budget) {
        if (this.blocked || this.exitInfo !== undefined)
            return;
        let sent = 0;
        while (sent < budget) {
            const { data, ends } = this.pool;
            // Write whole lines up to the budget, wrapping around the pool.
            const start = this.line === 0 ? 0 : ends[this.line - 1];
            let endLine = this.line;
            while (endLine < ends.length && ends[endLine] - start < budget - sent)
                endLine++;
            if (endLine === this.line)
                endLine++; // at least one line
            const end = ends[endLine - 1];
            const ok = this.child.stdin.write(data.subarray(start, end));
            this.written += endLine - this.line;
            this.bytesWritten += end - start;
            sent += end - start;
            if (endLine === ends.length) {
                this.line = 0;
                this.nextPass();
            }
            else {
                this.line = endLine;
            }
            if (!ok) {
                this.blocked = true;
                return;
            }
        }
    }
    /**
     * Keyed pools get fresh keys on every pass: a new copy (queued writes still reference the old
     * one) with the pass number rewritten in each key.
     */
    nextPass() {
        const { cycleAt } = this.pool;
        if (!cycleAt)
            return;
        this.pass++;
        const data = Buffer.from(this.pool.data);
        const digits = Buffer.from(String(this.pass % 10 ** CYCLE_DIGITS).padStart(CYCLE_DIGITS, '0'));
        for (const at of cycleAt)
            digits.copy(data, at);
        this.pool = { ...this.pool, data };
    }
    /** Stops writing; ends stdin so kcat flushes, and kills it after `timeoutMs`. */
    async stop(timeoutMs = 3000) {
        clearInterval(this.timer);
        if (this.exitInfo === undefined) {
            this.child.stdin.end();
            const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
            await this.exited;
            clearTimeout(t);
        }
    }
    /** Kills kcat at once (process exit path). */
    kill() {
        clearInterval(this.timer);
        if (this.exitInfo === undefined)
            this.child.kill('SIGKILL');
    }
    /** Why kcat exited early, if it did. */
    get failure() {
        return this.exitInfo === undefined ? undefined : `kcat exited (${this.exitInfo}): ${this.stderr.trim()}`;
    }
    get pid() {
        return this.child.pid ?? -1;
    }
}
exports.KcatStream = KcatStream;
