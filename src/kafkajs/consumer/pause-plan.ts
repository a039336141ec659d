/**
 * The pause planner of the recycling consumer: a pure function from the helper's state to what
 * it pauses and resumes.
 *
 * kafkajs drops every decoded batch of a partition that is paused when the fetch response has
 * been decoded (consumerGroup.fetch filters with `!isPaused`), and fetches the same offsets again
 * later. So a pause only helps when it is made before a fetch starts, and is pure loss while a
 * fetch that includes the partition is in flight. The rules:
 * - a partition is paused only at the start of a fetch of the broker that leads it (the helper
 *   learns the leader from the fetch a partition's records came in). A partition whose leader is
 *   not known yet is paused only when no other broker's fetch is in flight (then no fetch can
 *   drop it), and only by a broker that may lead it: one whose fetch included it without
 *   bringing its records is not its leader (or it had no data), and holds it back no more;
 * - a resume is safe at any time (it only lets the next fetch include the partition);
 * - a partition the application paused is never paused or resumed by the helper, and a pause of
 *   the helper's that the application then makes its own is forgotten, not resumed.
 */

/** Why the helper holds a partition paused. */
export type PauseReason = 'memory' | 'fetch';

/** One partition as the planner sees it. */
export interface PartitionView {
  /** "topic|partition". */
  readonly key: string;
  /** The broker whose fetches brought its records, if any did yet. */
  readonly broker: number | undefined;
  /**
   * Leader unknown, and the broker whose fetch starts may lead it and no other broker's fetch is
   * in flight: pausing it now drops nothing.
   */
  readonly mayLead: boolean;
  /** In the member's current assignment. */
  readonly assigned: boolean;
  /** Paused by the application. */
  readonly appPaused: boolean;
  /** Paused by the helper, and why. */
  readonly ours: PauseReason | undefined;
  /** Its recent memory per fetch (maxFetchBytes), if it delivered a fetch yet. */
  readonly recentBytes: number | undefined;
}

export interface PlanInput {
  /** The broker whose fetch starts now, or undefined when no fetch starts (only resumes then). */
  readonly fetchOf: number | undefined;
  /** Held memory now: leased bytes plus the objects of the messages handed out. */
  readonly held: number;
  readonly highWaterBytes: number;
  readonly lowWaterBytes: number;
  /** Whether a memory pause is in force. */
  readonly memoryPaused: boolean;
  readonly maxFetchBytes: number | undefined;
  /** Where `fetchOf`'s rotation of admitted partitions starts (maxFetchBytes). */
  readonly rotation: number;
  readonly partitions: readonly PartitionView[];
}

export interface Plan {
  /** Partitions to pause now (all led by `fetchOf`). */
  readonly pause: string[];
  /** Partitions to resume now (none of them paused by the application). */
  readonly resume: string[];
  /** The helper's pauses after this plan, by key. */
  readonly ours: Map<string, PauseReason>;
  readonly memoryPaused: boolean;
  /** `fetchOf`'s next rotation start. */
  readonly rotation: number;
  /** True when maxFetchBytes held back some of `fetchOf`'s partitions. */
  readonly limited: boolean;
}

export function planPauses(input: PlanInput): Plan {
  const { fetchOf, maxFetchBytes } = input;
  const memoryPaused = input.held > input.highWaterBytes || (input.memoryPaused && input.held > input.lowWaterBytes);
  const desired = new Map<string, PauseReason | undefined>();
  const mine: PartitionView[] = [];
  for (const p of input.partitions) {
    if (p.appPaused) desired.set(p.key, undefined);
    else if (fetchOf !== undefined && p.assigned && (p.broker === fetchOf || (p.broker === undefined && p.mayLead))) mine.push(p);
    else if (p.ours === 'memory') desired.set(p.key, memoryPaused ? 'memory' : undefined);
    // Held back by its own broker's last fetch: that broker's next fetch decides, unless it left
    // the assignment. One whose leader is unknown is let go at the first fetch start that cannot
    // decide it (another fetch in flight): held back until then, it could starve.
    else if (p.ours === 'fetch') desired.set(p.key, p.assigned && maxFetchBytes !== undefined && p.broker !== undefined ? 'fetch' : undefined);
    else desired.set(p.key, undefined);
  }

  let rotation = input.rotation;
  let limited = false;
  if (memoryPaused) {
    for (const p of mine) desired.set(p.key, p.ours ?? 'memory');
  } else if (maxFetchBytes !== undefined && mine.length > 0) {
    // Admit partitions in rotation while their recent sizes fit; the first always goes (a
    // partition larger than the allowance goes alone).
    const start = input.rotation % mine.length;
    let admitted = 0;
    let bytes = 0;
    for (let k = 0; k < mine.length; k++) {
      const p = mine[(start + k) % mine.length];
      const size = p.recentBytes ?? maxFetchBytes;
      if (admitted === k && (admitted === 0 || bytes + size <= maxFetchBytes)) {
        admitted++;
        bytes += size;
        desired.set(p.key, undefined);
      } else {
        desired.set(p.key, 'fetch');
      }
    }
    rotation = start + admitted;
    limited = admitted < mine.length;
  } else {
    for (const p of mine) desired.set(p.key, undefined);
  }

  const pause: string[] = [];
  const resume: string[] = [];
  const ours = new Map<string, PauseReason>();
  for (const p of input.partitions) {
    const want = desired.get(p.key);
    if (want !== undefined) {
      ours.set(p.key, want);
      if (p.ours === undefined) pause.push(p.key);
    } else if (p.ours !== undefined && !p.appPaused) {
      resume.push(p.key);
    }
  }
  return { pause, resume, ours, memoryPaused, rotation, limited };
}
