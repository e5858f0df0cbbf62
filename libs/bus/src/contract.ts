import { afterAll, describe, expect, test } from "bun:test";
import type { Bus } from "./bus.ts";

/** Options of the Bus contract suite. */
export interface BusContractOptions {
  /** First token(s) of every subject the suite uses (default "contract"); cluster runs make it unique. */
  subjectPrefix?: string;
  /** Per-test timeout in ms (default 10 000). */
  timeoutMs?: number;
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (u: Uint8Array) => new TextDecoder().decode(u);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await wait(10);
  }
}

/** Collects what a subscription receives. */
function listen(bus: Bus, subject: string) {
  const got: Array<{ subject: string; data: string }> = [];
  const sub = bus.subscribe(subject, (data, s) => got.push({ subject: s, data: dec(data) }));
  return { got, sub, data: () => got.map((g) => g.data) };
}

/**
 * Runs the Bus contract against an adapter. `make` returns a new instance connected to the SAME
 * server (or in-process broker) each call; the suite closes them.
 */
export function describeBusContract(label: string, make: () => Promise<Bus>, opts: BusContractOptions = {}): void {
  const run = Math.random().toString(36).slice(2, 8);
  let n = 0;
  const root = () => `${opts.subjectPrefix ?? "contract"}.${run}.${++n}`;
  const timeout = opts.timeoutMs ?? 10_000;
  const open: Bus[] = [];
  const fresh = async () => {
    const bus = await make();
    open.push(bus);
    return bus;
  };
  afterAll(async () => {
    await Promise.allSettled(open.map((b) => b.close()));
  });

  describe(`${label}: Bus contract`, () => {
    test("bus: a subscriber receives one publisher's messages in publish order, on this and other instances", async () => {
      const [pub, other] = [await fresh(), await fresh()];
      const s = `${root()}.order`;
      const local = listen(pub, s);
      const remote = listen(other, s);
      await Promise.all([pub.flush(), other.flush()]);
      const sent = Array.from({ length: 500 }, (_, i) => String(i));
      for (const m of sent) pub.publish(s, enc(m));
      await pub.flush();
      await until("500 messages remotely", () => remote.got.length >= 500);
      expect(local.data()).toEqual(sent);
      expect(remote.data()).toEqual(sent);
      expect(remote.got.every((g) => g.subject === s)).toBe(true);
    }, timeout);

    test("bus: flush resolves once earlier publishes have been handed over (own subscribers already have them)", async () => {
      const bus = await fresh();
      const s = `${root()}.flush`;
      const l = listen(bus, s);
      await bus.flush();
      for (let i = 0; i < 100; i++) bus.publish(s, enc(String(i)));
      await bus.flush();
      expect(l.got.length).toBe(100);
    }, timeout);

    test("bus: a subscriber that was not subscribed at publish time never sees the message", async () => {
      const [pub, other] = [await fresh(), await fresh()];
      const s = `${root()}.late`;
      pub.publish(s, enc("before"));
      const sameTick = listen(pub, s);
      await pub.flush();
      const late = listen(other, s);
      await other.flush();
      pub.publish(s, enc("after"));
      await pub.flush();
      await until("the later message", () => late.got.length > 0 && sameTick.got.length > 0);
      await wait(50);
      expect(sameTick.data()).toEqual(["after"]);
      expect(late.data()).toEqual(["after"]);
    }, timeout);

    test("bus: * matches exactly one token and > one or more trailing tokens", async () => {
      const [bus, other] = [await fresh(), await fresh()];
      const r = root();
      const subs = {
        star: listen(other, `${r}.a.*`),
        starMid: listen(other, `${r}.*.b.c`),
        tail: listen(other, `${r}.a.>`),
        exact: listen(other, `${r}.a.b`),
        all: listen(other, `${r}.>`),
      };
      await other.flush();
      for (const s of ["a", "a.b", "a.b.c", "a.b.c.d", "x.b.c", "b"]) bus.publish(`${r}.${s}`, enc(s));
      bus.publish(`${r}.end`, enc("end"));
      await bus.flush();
      await until("the end marker", () => subs.all.data().includes("end"));
      const sorted = (l: { data(): string[] }) => l.data().sort();
      expect(sorted(subs.star)).toEqual(["a.b"]);
      expect(sorted(subs.starMid)).toEqual(["a.b.c", "x.b.c"]);
      expect(sorted(subs.tail)).toEqual(["a.b", "a.b.c", "a.b.c.d"]);
      expect(sorted(subs.exact)).toEqual(["a.b"]);
      expect(sorted(subs.all)).toEqual(["a", "a.b", "a.b.c", "a.b.c.d", "b", "end", "x.b.c"]);
    }, timeout);

    test("bus: every subscription gets every matching message, including the publisher's own (no queue groups)", async () => {
      const [bus, other] = [await fresh(), await fresh()];
      const s = `${root()}.fan`;
      const subs = [listen(bus, s), listen(bus, s), listen(other, s), listen(other, s)];
      await Promise.all([bus.flush(), other.flush()]);
      bus.publish(s, enc("one"));
      bus.publish(s, enc("two"));
      await bus.flush();
      await until("every subscription", () => subs.every((l) => l.got.length >= 2));
      await wait(30);
      for (const l of subs) expect(l.data()).toEqual(["one", "two"]);
    }, timeout);

    test("bus: unsubscribe stops delivery", async () => {
      const bus = await fresh();
      const s = `${root()}.unsub`;
      const l = listen(bus, s);
      const keep = listen(bus, s);
      await bus.flush();
      bus.publish(s, enc("1"));
      await bus.flush();
      await until("the first message", () => l.got.length === 1);
      l.sub.unsubscribe();
      bus.publish(s, enc("2"));
      await bus.flush();
      await until("the second message on the kept subscription", () => keep.got.length === 2);
      await wait(30);
      expect(l.data()).toEqual(["1"]);
    }, timeout);

    test("bus: publish never throws for absent subscribers, and a throwing handler does not stop delivery", async () => {
      const bus = await fresh();
      const r = root();
      expect(() => bus.publish(`${r}.nobody.listens`, enc("x"))).not.toThrow();
      bus.subscribe(`${r}.t`, () => {
        throw new Error("handler bug");
      });
      const l = listen(bus, `${r}.t`);
      await bus.flush();
      bus.publish(`${r}.t`, enc("1"));
      bus.publish(`${r}.t`, enc("2"));
      await bus.flush();
      await until("both messages", () => l.got.length === 2);
      expect(l.data()).toEqual(["1", "2"]);
    }, timeout);

    test("bus: the payload delivered is what was published, even if the publisher reuses its buffer", async () => {
      const bus = await fresh();
      const s = `${root()}.bytes`;
      const got: Uint8Array[] = [];
      bus.subscribe(s, (d) => got.push(new Uint8Array(d)));
      await bus.flush();
      const buf = new Uint8Array([1, 2, 3, 0, 255]);
      bus.publish(s, buf);
      buf.fill(9);
      bus.publish(s, new Uint8Array(0));
      await bus.flush();
      await until("two payloads", () => got.length === 2);
      expect([...got[0]!]).toEqual([1, 2, 3, 0, 255]);
      expect(got[1]!.byteLength).toBe(0);
    }, timeout);

    test("bus: healthy is true while connected and false after close", async () => {
      const bus = await fresh();
      expect(bus.healthy()).toBe(true);
      await bus.close();
      expect(bus.healthy()).toBe(false);
      expect(() => bus.publish(`${root()}.closed`, enc("x"))).not.toThrow();
    }, timeout);
  });
}
