/**
 * Groups row writes into Cassandra requests. Rows of one partition always travel together (an
 * unlogged single-partition batch is one atomic mutation, exempt from batch size limits); rows of
 * different partitions share an unlogged batch only when the same replicas own them, and such a
 * batch stays under a byte and partition budget (below `batch_size_fail_threshold`, 50 KiB by
 * default). On a busy node this turns thousands of one-row requests into tens of batches: the
 * per-request cost, not the row, is what the node and the driver pay for.
 */

/** One row write: a prepared statement and its parameters, with an estimate of its size. */
export interface RowWrite {
  query: string;
  params: unknown[];
  bytes: number;
}

/** The rows of one partition and who owns it (replica addresses, "" when unknown). */
export interface PartitionWrite {
  replicas: string;
  rows: RowWrite[];
}

export interface BatchLimits {
  /** Most partitions in one cross-partition batch. */
  maxPartitions: number;
  /** Most estimated bytes in one cross-partition batch. */
  maxBytes: number;
  /** Most rows in one request (a larger partition is split into single-partition batches). */
  maxRows: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxPartitions: 16, maxBytes: 24 * 1024, maxRows: 200 };

/** Estimated size of a row's parameters (strings by length, everything else small). */
export function estimateBytes(params: unknown[]): number {
  let n = 16;
  for (const p of params) n += typeof p === "string" ? p.length : Array.isArray(p) ? 8 + p.reduce((s: number, x) => s + String(x).length + 4, 0) : 8;
  return n;
}

/** The requests for `partitions`: each an array of rows (one row = a plain statement). */
export function planBatches(partitions: Iterable<PartitionWrite>, limits: BatchLimits = DEFAULT_BATCH_LIMITS): RowWrite[][] {
  const out: RowWrite[][] = [];
  const open = new Map<string, { rows: RowWrite[]; partitions: number; bytes: number }>();
  for (const p of partitions) {
    const bytes = p.rows.reduce((s, r) => s + r.bytes, 0);
    if (p.rows.length > limits.maxRows || bytes > limits.maxBytes) {
      for (let i = 0; i < p.rows.length; i += limits.maxRows) out.push(p.rows.slice(i, i + limits.maxRows));
      continue;
    }
    let b = open.get(p.replicas);
    if (b && (b.partitions >= limits.maxPartitions || b.bytes + bytes > limits.maxBytes || b.rows.length + p.rows.length > limits.maxRows)) {
      out.push(b.rows);
      b = undefined;
    }
    if (!b) open.set(p.replicas, (b = { rows: [], partitions: 0, bytes: 0 }));
    b.rows.push(...p.rows);
    b.partitions++;
    b.bytes += bytes;
  }
  for (const b of open.values()) out.push(b.rows);
  return out;
}

/** Cassandra's routing key of a partition key: the value itself, or for a composite key each
 * component as a 2-byte length, the bytes and a 0 byte. */
export function routingKey(components: Buffer[]): Buffer {
  if (components.length === 1) return components[0]!;
  const parts: Buffer[] = [];
  for (const c of components) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(c.length);
    parts.push(len, c, Buffer.from([0]));
  }
  return Buffer.concat(parts);
}

export const textKey = (s: string) => Buffer.from(s, "utf8");
export function bigintKey(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}
export function intKey(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
