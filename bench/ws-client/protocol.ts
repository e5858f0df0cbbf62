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
  | {
      op: "connect";
      hostname: string;
      port: number;
      paths: string[];
      localAddresses: string[];
      concurrency: number;
      group: string;
      /** Parse every frame: count MESSAGE frames and note the last contiguous seq per conversation (resume storm). */
      track?: boolean;
    }
  /**
   * Resume storm: reconnect the tracked sockets of `group` (socket order as connected; `convs[i]` are the
   * conversations of its user) all at once, send RESUME with each socket's last contiguous seq, and check
   * the replay up to `finals` (the conversations' last seq). Answered with `resumed` after every socket
   * caught up or `timeoutMs` passed.
   */
  | ResumeRequest
  | { op: "reset"; epoch: number }
  /** Per-socket min/max over the sockets of `group` (all when absent). */
  | { op: "stats"; group?: string }
  | { op: "closeAll" }
  | { op: "exit" };

/** See WorkerRequest. `t0` (wallMs) is the common reconnect start the times are measured from. */
export interface ResumeRequest {
  op: "resume";
  group: string;
  hostname: string;
  port: number;
  paths: string[];
  convs: string[][];
  finals: Record<string, number>;
  localAddresses: string[];
  concurrency: number;
  t0: number;
  timeoutMs: number;
  /** When > 0: after an ERROR frame, RESUME the conversations not yet RESUMED again (from what arrived) after this delay. */
  retryMs?: number;
}

/** One worker's outcome of a resume storm. */
export interface ResumeReport {
  op: "resumed";
  sockets: number;
  /** Sockets that received RESUMED and every seq up to the final one, for all their conversations. */
  caughtUp: number;
  /** Sockets whose reconnection failed (handshake error or timeout). */
  failed: number;
  /** Sockets closed by the server after the reconnection (before catching up), and their close codes. */
  closedAfter: number;
  closeCodes: Record<string, number>;
  /** RESUME frames re-sent after an ERROR (retryMs). */
  retries: number;
  /** Missing seqs in (position, final] of conversations whose RESUMED arrived (counted at the end). */
  gaps: number;
  /** Conversations (over all sockets) that never got their RESUMED. */
  unresumed: number;
  /** A seq received twice, or at or below the resume position. */
  duplicates: number;
  /** A seq lower than an earlier one of the same conversation on the same socket. */
  reordered: number;
  /** Replayed MESSAGE frames received. */
  frames: number;
  resumedFrames: number;
  errorFrames: number;
  /** Per caught-up socket: ms from t0 to caught up, and from its own connect start to caught up. */
  doneMs: number[];
  fromOpenMs: number[];
  /** ms from t0 until the handshake completed, per reconnected socket. */
  openMs: number[];
  errors: string[];
  /** Sum of (final − position) over sockets and conversations: the frames a perfect replay sends. */
  expectedFrames: number;
}

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
  | ResumeReport
  | WorkerStats;

/** Coordinator → raw server. */
export type RawRequest = { op: "publish"; frame: string } | { op: "count" };
/** Raw server → coordinator. */
export type RawReply = { op: "listening"; port: number } | { op: "count"; sockets: number };
