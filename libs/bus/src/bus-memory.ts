import type { Logger } from "@chat4all/kernel";
import type { Bus, Subscription } from "./bus.ts";
import { isPublishSubject, isSubscribePattern, subjectMatches } from "./subject.ts";

interface Sub {
  pattern: string;
  tokens: string[];
  handler: (data: Uint8Array, subject: string) => void;
  active: boolean;
}

/**
 * The in-process "server" that MemoryBus handles share: a subscription index (exact subjects in a
 * map, wildcard patterns in a list) and one FIFO delivery queue drained in a microtask, so
 * publishers never run handlers re-entrantly and every subscriber sees one publisher's order.
 */
export class MemoryBroker {
  readonly #exact = new Map<string, Set<Sub>>();
  readonly #wild = new Set<Sub>();
  #queue: Array<{ sub: Sub; data: Uint8Array; subject: string }> = [];
  #draining = false;
  #idle: Array<() => void> = [];
  constructor(private readonly logger?: Logger) {}

  add(sub: Sub): void {
    if (sub.tokens.some((t) => t === "*" || t === ">")) this.#wild.add(sub);
    else {
      let set = this.#exact.get(sub.pattern);
      if (!set) this.#exact.set(sub.pattern, (set = new Set()));
      set.add(sub);
    }
  }

  remove(sub: Sub): void {
    sub.active = false;
    this.#wild.delete(sub);
    const set = this.#exact.get(sub.pattern);
    if (set?.delete(sub) && set.size === 0) this.#exact.delete(sub.pattern);
  }

  /** Queues `data` for every subscription matching now (later subscribers never see it). */
  publish(subject: string, data: Uint8Array): void {
    const copy = data.slice();
    const tokens = subject.split(".");
    for (const sub of this.#exact.get(subject) ?? []) this.#queue.push({ sub, data: copy, subject });
    for (const sub of this.#wild) if (subjectMatches(sub.tokens, tokens)) this.#queue.push({ sub, data: copy, subject });
    if (!this.#draining && this.#queue.length > 0) {
      this.#draining = true;
      queueMicrotask(this.#drain);
    }
  }

  /** Resolves once everything queued so far has been delivered. */
  idle(): Promise<void> {
    return this.#draining ? new Promise((r) => this.#idle.push(r)) : Promise.resolve();
  }

  readonly #drain = (): void => {
    while (this.#queue.length > 0) {
      const queue = this.#queue;
      this.#queue = [];
      for (const { sub, data, subject } of queue) {
        if (!sub.active) continue;
        try {
          sub.handler(data, subject);
        } catch (err) {
          this.logger?.error("bus: subscriber threw", { subject, pattern: sub.pattern, error: err instanceof Error ? err : String(err) });
        }
      }
    }
    this.#draining = false;
    const idle = this.#idle;
    this.#idle = [];
    for (const r of idle) r();
  };
}

/** In-process Bus: instances built on one MemoryBroker see each other's messages (a private broker by default). */
export class MemoryBus implements Bus {
  readonly #broker: MemoryBroker;
  readonly #subs = new Set<Sub>();
  #closed = false;

  constructor(opts: { broker?: MemoryBroker; logger?: Logger } = {}) {
    this.#broker = opts.broker ?? new MemoryBroker(opts.logger);
  }

  publish(subject: string, data: Uint8Array): void {
    if (this.#closed) return;
    if (!isPublishSubject(subject)) throw new Error(`bus: invalid subject ${JSON.stringify(subject)}`);
    this.#broker.publish(subject, data);
  }

  subscribe(subject: string, handler: (data: Uint8Array, subject: string) => void): Subscription {
    if (this.#closed) throw new Error("bus: closed");
    if (!isSubscribePattern(subject)) throw new Error(`bus: invalid subscription ${JSON.stringify(subject)}`);
    const sub: Sub = { pattern: subject, tokens: subject.split("."), handler, active: true };
    this.#broker.add(sub);
    this.#subs.add(sub);
    return {
      unsubscribe: () => {
        this.#broker.remove(sub);
        this.#subs.delete(sub);
      },
    };
  }

  flush(): Promise<void> {
    return this.#broker.idle();
  }

  healthy(): boolean {
    return !this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    for (const sub of this.#subs) this.#broker.remove(sub);
    this.#subs.clear();
  }
}
