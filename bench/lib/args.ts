// Command-line flags of `bun bench/pipeline.ts` (see `--help`).
import { parseArgs } from "node:util";

/** Parsed benchmark options. */
export interface BenchOptions {
  mode: "cluster" | "embedded";
  durationS: number;
  warmupS: number;
  /** Offered rate (messages/s over all processes); 0 = closed loop. */
  rate: number;
  senders: number;
  recipients: number;
  conversations: number;
  sizeBytes: number;
  procs: number;
  drainS: number;
  raw: boolean;
  tag: string;
  keepEnv: boolean;
  outDir: string;
  storedSample: number;
  /** Most messages accepted but not yet delivered, over all processes. */
  window: number;
}

export const USAGE = `bun bench/pipeline.ts [flags]   (just bench [cluster|embedded] [flags])

  --mode cluster|embedded   system under test (default cluster: gateways :3000 and :3001)
  --duration S              measured seconds (default 60)
  --warmup S                seconds of load before measuring (default 10)
  --rate R                  offered messages/s, open loop; 0 = closed loop, as fast as answered (default 0)
  --senders N               closed loop: concurrent senders; open loop: cap on requests in flight (default 256)
  --recipients M            connected users, one WebSocket each (default 2000)
  --conversations K         conversations of M/K members each (default 1000)
  --size B                  message content bytes (default 100)
  --window W                most messages sent but not yet at every recipient (closed loop: senders wait;
                            open loop: sends are skipped and counted); default 5000 closed, 5 s of rate open
  --procs P                 load-generator processes, sockets and senders split between them (default 2)
  --drain S                 longest wait for in-flight deliveries after the last send (default 20)
  --no-raw                  skip the Kafka produce→consume baseline
  --stored-sample N         conversations probed each second for the stored rate (default 20)
  --tag NAME                write bench/results/pipeline-NAME.* instead of pipeline.*
  --keep-env                leave the gateways running with the benchmark's env afterwards
  --out DIR                 results folder (default bench/results)`;

const num = (v: string | undefined, def: number, name: string, min = 0) => {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
};

/** Parses argv (without the runtime and script); throws a readable error on bad flags. */
export function parseBenchArgs(argv: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      mode: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      rate: { type: "string" },
      senders: { type: "string" },
      recipients: { type: "string" },
      conversations: { type: "string" },
      size: { type: "string" },
      procs: { type: "string" },
      window: { type: "string" },
      drain: { type: "string" },
      "no-raw": { type: "boolean" },
      "stored-sample": { type: "string" },
      tag: { type: "string" },
      "keep-env": { type: "boolean" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: false,
  });
  if (values.help) return "help";
  const mode = values.mode ?? "cluster";
  if (mode !== "cluster" && mode !== "embedded") throw new Error(`--mode must be cluster or embedded, got ${mode}`);
  const o: BenchOptions = {
    mode,
    durationS: num(values.duration, 60, "duration", 1),
    warmupS: num(values.warmup, 10, "warmup", 0),
    rate: num(values.rate, 0, "rate", 0),
    senders: Math.floor(num(values.senders, 256, "senders", 1)),
    recipients: Math.floor(num(values.recipients, 2000, "recipients", 2)),
    conversations: Math.floor(num(values.conversations, 1000, "conversations", 1)),
    sizeBytes: Math.floor(num(values.size, 100, "size", 40)),
    procs: Math.floor(num(values.procs, 2, "procs", 1)),
    drainS: num(values.drain, 20, "drain", 0),
    raw: !values["no-raw"],
    tag: values.tag ?? "",
    keepEnv: values["keep-env"] ?? false,
    outDir: values.out ?? "bench/results",
    storedSample: Math.floor(num(values["stored-sample"], 20, "stored-sample", 1)),
    window: 0,
  };
  const rate = o.rate;
  o.window = Math.floor(num(values.window, rate > 0 ? Math.max(2000, rate * 5) : 5000, "window", 1));
  if (o.durationS > 900) throw new Error("--duration is capped at 900 s");
  if (o.recipients / o.procs > 19_000) throw new Error("at most ~19,000 sockets per process (open-files limit 20,000): raise --procs");
  if (!/^[a-z0-9._-]*$/i.test(o.tag)) throw new Error("--tag: letters, digits, . _ - only");
  return o;
}
