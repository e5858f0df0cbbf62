// What the benchmark coordinators and their load-worker / raw-server processes say over IPC, and the
// benchmark's MESSAGE frame (a real frame of the protocol with the send time at a fixed place).
import type { HistogramData } from "../lib/histogram.ts";

/** Wall-clock milliseconds with sub-ms precision, comparable between processes on one machine (~0.1 ms). */
export const wallMs = () => performance.timeOrigin + performance.now();

/** Every benchmark frame starts with these bytes, then 16 digits: the publish time in µs since the epoch. */
export const BENCH_PREFIX = '{"type":"MESSAGE","sent_at_us":"';

/** A `MESSAGE` frame shaped like `messageFrame()` of @chat4all/pipeline, stamped with the current time. */
export function benchFrame(m: { conversationId: string; senderId: string; seq: number; content: string }): string {
  const us = String(Math.round(wallMs() * 1000)).padStart(16, "0");
  return `${BENCH_PREFIX}${us}",${JSON.stringify({
    message_id: crypto.randomUUID(),
    conversation_id: m.conversationId,
    sender_id: m.senderId,
    content: m.content,
    message_type: "text",
    sequence_number: m.seq,
    created_at: new Date().toISOString(),
    status: "SENT",
    attachments: null,
    metadata: null,
    target_channels: ["delivery"],
  }).slice(1)}`;
}

/** Coordinator → load worker. */
export type WorkerRequest =
  | { op: "connect"; hostname: string; port: number; paths: string[]; localAddresses: string[]; concurrency: number; group: string }
  | { op: "reset"; epoch: number }
  /** Per-socket min/max over the sockets of `group` (all when absent). */
  | { op: "stats"; group?: string }
  | { op: "closeAll" }
  | { op: "exit" };

/** Per-worker counts at the end of a phase. */
export interface WorkerStats {
  op: "stats";
  sockets: number;
  received: number;
  other: number;
  /** Frames whose send time was not after the previous one's on the same socket (duplicates or reordering). */
  outOfOrder: number;
  closed: number;
  closeCodes: Record<string, number>;
  perSocketMin: number;
  perSocketMax: number;
  lastAt: number;
  hist: HistogramData;
}

/** Load worker → coordinator. */
export type WorkerReply =
  | { op: "ready" }
  | { op: "connected"; open: number; failed: number; errors: string[] }
  | { op: "progress"; epoch: number; received: number; lastAt: number }
  | { op: "reset" }
  | { op: "closedAll" }
  | WorkerStats;

/** Coordinator → raw server. */
export type RawRequest = { op: "publish"; frame: string } | { op: "count" };
/** Raw server → coordinator. */
export type RawReply = { op: "listening"; port: number } | { op: "count"; sockets: number };
