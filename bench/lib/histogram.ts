// An HDR-style log-linear histogram of latencies in microseconds: exact below 256 µs, then 128
// linear sub-buckets per power of two (relative error < 0.8 %), up to 2^31 µs (~36 min). Counts are
// plain numbers in a sparse Map, so histograms merge by addition and travel over IPC as pairs.

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS; // 128 sub-buckets per power of two
const LINEAR = SUB * 2; // values below 256 get their own bucket
const MAX_US = 2 ** 31 - 1;

/** Bucket index of a value in µs (clamped to [0, 2^31)). */
export function bucketOf(us: number): number {
  const v = Math.min(MAX_US, Math.max(0, Math.floor(us)));
  if (v < LINEAR) return v;
  const msb = 31 - Math.clz32(v); // >= 8
  const shift = msb - SUB_BITS;
  return LINEAR + (msb - SUB_BITS - 1) * SUB + ((v >> shift) - SUB);
}

/** Lowest value (µs) that falls in bucket `i`. */
export function bucketLow(i: number): number {
  if (i < LINEAR) return i;
  const j = i - LINEAR;
  const msb = Math.floor(j / SUB) + SUB_BITS + 1;
  const shift = msb - SUB_BITS;
  return ((j % SUB) + SUB) * 2 ** shift;
}

/** Highest value (µs) that falls in bucket `i`. */
export const bucketHigh = (i: number) => bucketLow(i + 1) - 1;

/** Serialized form: [bucket, count] pairs plus exact count, sum, min and max. */
export interface HistogramData {
  b: [number, number][];
  n: number;
  sum: number;
  min: number;
  max: number;
}

/** A mergeable latency histogram (values recorded in milliseconds, stored in µs buckets). */
export class Histogram {
  #counts = new Map<number, number>();
  count = 0;
  sumUs = 0;
  minUs = Number.POSITIVE_INFINITY;
  maxUs = 0;

  /** Records one latency in milliseconds (negative values count as 0). */
  recordMs(ms: number): void {
    const us = Math.max(0, ms * 1000);
    const i = bucketOf(us);
    this.#counts.set(i, (this.#counts.get(i) ?? 0) + 1);
    this.count++;
    this.sumUs += us;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Adds every count of `other` (a Histogram or its serialized form). */
  merge(other: Histogram | HistogramData): this {
    const d = other instanceof Histogram ? other.toJSON() : other;
    for (const [i, c] of d.b) this.#counts.set(i, (this.#counts.get(i) ?? 0) + c);
    this.count += d.n;
    this.sumUs += d.sum;
    if (d.n > 0) {
      this.minUs = Math.min(this.minUs, d.min);
      this.maxUs = Math.max(this.maxUs, d.max);
    }
    return this;
  }

  /** The value (ms) at percentile `p` (0–100): the upper edge of the bucket holding that rank, capped at the max seen. */
  percentileMs(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.count));
    let seen = 0;
    for (const i of [...this.#counts.keys()].sort((a, b) => a - b)) {
      seen += this.#counts.get(i) ?? 0;
      if (seen >= rank) return Math.min(bucketHigh(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  /** Mean in ms. */
  meanMs(): number {
    return this.count === 0 ? Number.NaN : this.sumUs / this.count / 1000;
  }

  /** Max in ms. */
  maxMs(): number {
    return this.count === 0 ? Number.NaN : this.maxUs / 1000;
  }

  /** Serializes (sparse) for IPC or files. */
  toJSON(): HistogramData {
    return { b: [...this.#counts], n: this.count, sum: this.sumUs, min: this.count ? this.minUs : 0, max: this.maxUs };
  }

  /** Rebuilds a histogram from its serialized form. */
  static from(d: HistogramData): Histogram {
    return new Histogram().merge(d);
  }

  /** Summary in ms: count, mean, p50, p90, p99, p99.9, max. */
  summary() {
    const r = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
    return {
      count: this.count,
      mean_ms: r(this.meanMs()),
      p50_ms: r(this.percentileMs(50)),
      p90_ms: r(this.percentileMs(90)),
      p99_ms: r(this.percentileMs(99)),
      p999_ms: r(this.percentileMs(99.9)),
      max_ms: r(this.maxMs()),
    };
  }
}
