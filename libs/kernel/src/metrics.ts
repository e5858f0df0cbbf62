/**
 * A small metrics registry rendered in the Prometheus text format: counters, gauges and
 * histograms with fixed buckets, each with optional labels. Cheap on the hot path (a Map lookup
 * and an addition); rendering happens only when scraped.
 */
export interface Metrics {
  counter(name: string, help: string): (labels?: Record<string, string>, by?: number) => void;
  gauge(name: string, help: string, read: () => number): void;
  histogram(name: string, help: string, buckets: number[]): (value: number, labels?: Record<string, string>) => void;
  /** The Prometheus exposition text. */
  render(): string;
}

const key = (labels?: Record<string, string>) =>
  labels ? Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, "_")}"`).join(",") : "";

/** Creates an empty registry. */
export function createMetrics(prefix = "chat4all_"): Metrics {
  const out: (() => string)[] = [];
  return {
    counter(name, help) {
      const values = new Map<string, number>();
      out.push(() => [`# HELP ${prefix}${name} ${help}`, `# TYPE ${prefix}${name} counter`, ...[...values].map(([k, v]) => `${prefix}${name}${k ? `{${k}}` : ""} ${v}`)].join("\n"));
      return (labels, by = 1) => {
        const k = key(labels);
        values.set(k, (values.get(k) ?? 0) + by);
      };
    },
    gauge(name, help, read) {
      out.push(() => `# HELP ${prefix}${name} ${help}\n# TYPE ${prefix}${name} gauge\n${prefix}${name} ${read()}`);
    },
    histogram(name, help, buckets) {
      const series = new Map<string, { counts: number[]; sum: number; n: number }>();
      out.push(() => {
        const lines = [`# HELP ${prefix}${name} ${help}`, `# TYPE ${prefix}${name} histogram`];
        for (const [k, s] of series) {
          const sep = k ? "," : "";
          let cum = 0;
          buckets.forEach((b, i) => {
            cum += s.counts[i] ?? 0;
            lines.push(`${prefix}${name}_bucket{${k}${sep}le="${b}"} ${cum}`);
          });
          lines.push(`${prefix}${name}_bucket{${k}${sep}le="+Inf"} ${s.n}`, `${prefix}${name}_sum${k ? `{${k}}` : ""} ${s.sum}`, `${prefix}${name}_count${k ? `{${k}}` : ""} ${s.n}`);
        }
        return lines.join("\n");
      });
      return (value, labels) => {
        const k = key(labels);
        let s = series.get(k);
        if (!s) series.set(k, (s = { counts: buckets.map(() => 0), sum: 0, n: 0 }));
        const i = buckets.findIndex((b) => value <= b);
        if (i >= 0) s.counts[i] = (s.counts[i] ?? 0) + 1;
        s.sum += value;
        s.n++;
      };
    },
    render: () => `${out.map((f) => f()).join("\n")}\n`,
  };
}
