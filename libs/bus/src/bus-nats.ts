import { type NatsConnection, Events, connect } from "nats";
import type { Logger } from "@chat4all/kernel";
import type { Bus, Subscription } from "./bus.ts";
import { isPublishSubject, isSubscribePattern } from "./subject.ts";

/** Options of the NATS bus. */
export interface NatsBusOptions {
  /** One or more `nats://host:port` URLs. */
  servers: string | string[];
  /** Connection name shown by the server's monitoring. */
  name?: string;
  /** Reconnect backoff: first wait and cap in ms (defaults 250 and 5000). */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** How long `close` waits for the drain before closing hard (default 5000). */
  drainTimeoutMs?: number;
  logger?: Logger;
}

/**
 * Bus on NATS core (no JetStream): one connection that reconnects forever with a growing wait
 * (half the time spent disconnected, between reconnectBaseMs and reconnectMaxMs) and resubscribes.
 *
 * While disconnected, `publish` does not throw: the nats client appends to its outbound buffer and
 * discards that buffer at the next dial attempt, so what is published while disconnected is lost
 * (best effort, as the port allows) and the buffer stays bounded by the reconnect wait.
 * `flush` rejects while disconnected (nothing has left the process).
 */
export class NatsBus implements Bus {
  readonly #nc: NatsConnection;
  readonly #opts: NatsBusOptions;
  #connected = true;
  #closing = false;

  private constructor(nc: NatsConnection, opts: NatsBusOptions, disconnectedSince: { at: number }) {
    this.#nc = nc;
    this.#opts = opts;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === Events.Disconnect) {
          this.#connected = false;
          disconnectedSince.at = Date.now();
          opts.logger?.warn("bus: nats disconnected", { server: String(s.data) });
        } else if (s.type === Events.Reconnect) {
          this.#connected = true;
          opts.logger?.info("bus: nats reconnected", { server: String(s.data) });
        } else if (s.type === Events.Error) {
          opts.logger?.warn("bus: nats error", { error: String(s.data) });
        }
      }
    })();
    void nc.closed().then(() => {
      this.#connected = false;
    });
  }

  /** Connects (the first connection must succeed) and returns the bus. */
  static async connect(opts: NatsBusOptions): Promise<NatsBus> {
    const since = { at: Date.now() };
    const base = opts.reconnectBaseMs ?? 250;
    const max = opts.reconnectMaxMs ?? 5_000;
    try {
      const nc = await connect({
        servers: opts.servers,
        name: opts.name,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectDelayHandler: () => Math.min(max, Math.max(base, (Date.now() - since.at) / 2)),
        pingInterval: 10_000,
        maxPingOut: 3,
      });
      return new NatsBus(nc, opts, since);
    } catch (cause) {
      throw new Error(`nats: connect to ${[opts.servers].flat().join(",")}`, { cause });
    }
  }

  publish(subject: string, data: Uint8Array): void {
    if (this.#closing) return;
    if (!isPublishSubject(subject)) throw new Error(`bus: invalid subject ${JSON.stringify(subject)}`);
    try {
      // The nats client keeps a reference until its next microtask flush: copy, so callers may reuse buffers.
      this.#nc.publish(subject, data.slice());
    } catch (err) {
      // Closed connection or payload above the server's max_payload: dropped, never thrown.
      this.#opts.logger?.warn("bus: publish dropped", { subject, bytes: data.byteLength, error: err instanceof Error ? err : String(err) });
    }
  }

  subscribe(subject: string, handler: (data: Uint8Array, subject: string) => void): Subscription {
    if (this.#closing) throw new Error("bus: closed");
    if (!isSubscribePattern(subject)) throw new Error(`bus: invalid subscription ${JSON.stringify(subject)}`);
    const sub = this.#nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          this.#opts.logger?.warn("bus: subscription error", { subject, error: err });
          return;
        }
        try {
          handler(msg.data, msg.subject);
        } catch (e) {
          this.#opts.logger?.error("bus: subscriber threw", { subject: msg.subject, pattern: subject, error: e instanceof Error ? e : String(e) });
        }
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  async flush(): Promise<void> {
    try {
      await this.#nc.flush();
    } catch (cause) {
      throw new Error("nats: flush", { cause });
    }
  }

  healthy(): boolean {
    return this.#connected && !this.#closing && !this.#nc.isClosed();
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, this.#opts.drainTimeoutMs ?? 5_000)));
    await Promise.race([this.#nc.drain().catch(() => {}), timeout]);
    clearTimeout(timer);
    if (!this.#nc.isClosed()) await this.#nc.close().catch(() => {});
  }
}
