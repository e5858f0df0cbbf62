// Messages between the benchmark's orchestrator (bench/pipeline.ts) and its load processes (worker.ts).
import type { HistogramData } from "./histogram.ts";

/** Epoch milliseconds with sub-millisecond precision (same clock in every process of the machine). */
export const nowMs = () => performance.timeOrigin + performance.now();

/** What one load process does. */
export interface WorkerInit {
  type: "init";
  worker: number;
  workers: number;
  runId: string;
  gateways: string[];
  /** Access token of every user (senders post as any member of a conversation). */
  tokens: string[];
  /** Users whose socket this process holds: user index and the gateway it connects to. */
  sockets: { user: number; gateway: string }[];
  /** The conversations this process sends to; every member's socket is held by this process. */
  conversations: { id: string; members: number[] }[];
  /**
   * Most messages of this process accepted (or in flight) but not yet at every recipient socket:
   * closed loop waits below it, open loop skips (and counts) sends above it.
   */
  window: number;
  /** Concurrent sender loops (closed loop) or the cap on requests in flight (open loop). */
  senders: number;
  /** Offered rate of this process in messages/s; 0 = closed loop (as fast as answers come). */
  ratePerS: number;
  /** Size of the message content in bytes. */
  sizeBytes: number;
  /** Seconds to hold sockets after the last send at most (the orchestrator usually stops earlier). */
  maxDrainS: number;
}

/** Starts sending at `startAt` until `endAt` (epoch ms); seconds are counted from `startAt`. */
export interface WorkerStart {
  type: "start";
  startAt: number;
  endAt: number;
}

/** Stops everything and exits after a last report. */
export interface WorkerStop {
  type: "stop";
}

export type ToWorker = WorkerInit | WorkerStart | WorkerStop;

/** Counters of one second (index from `startAt`) in one process. */
export interface Slot {
  sec: number;
  sent: number;
  accepted: number;
  rejected: number;
  errors: number;
  /** Open loop: messages not sent because the client fell behind by a second or the window was full. */
  skipped: number;
  /** MESSAGE frames at sockets of recipients (not the sender) of this run. */
  delivered: number;
  /** MESSAGE frames at the sender's own socket (every member's sockets get a conversation's messages). */
  echo: number;
  /** Frames with a seq not above the last seen for that socket and conversation. */
  duplicates: number;
  /** Frames whose seq skipped ahead of last+1 (a live frame lost before this one). */
  gaps: number;
  otherFrames: number;
  accept: HistogramData;
  deliver: HistogramData;
  /** From the gateway's acceptance (the message's created_at, ms precision) to the socket. */
  pipeline: HistogramData;
}

export type FromWorker =
  | { type: "ready"; worker: number; opened: number; failed: number; closedEarly: number; firstError?: string }
  | { type: "slots"; worker: number; slots: Slot[]; inFlight: number; outstanding: number; socketsOpen: number; rejectSample?: string }
  | { type: "done"; worker: number };
