import { expect, test } from "bun:test";
import type { LocalMetadata } from "./create.ts";
import { expectDomainError, tag, uid } from "./contract-helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** The Outbox clauses (written with a user, leased, acknowledged). */
export function describeOutboxClauses(ctx: { readonly m: LocalMetadata }): void {
  const newAccount = (t: string, announce: { topic: string; key: string; value: Uint8Array }[]) =>
    ctx.m.store.createUser({ id: uid(), username: `o_${t}`, email: `${t}@outbox.test`, name: t, passwordHash: "h", announce });
  /** Claims until this test's records (keys starting with `t`) are all seen; returns them. */
  async function claimMine(t: string, leaseMs: number) {
    const mine = [];
    for (const r of await ctx.m.outbox.claim(1000, leaseMs)) if (r.key.startsWith(t)) mine.push(r);
    return mine;
  }

  test("outbox: records written with a user are claimed oldest first, leased to one caller, then acknowledged for good", async () => {
    const t = tag();
    await newAccount(t, [
      { topic: "user.account.created.v1", key: `${t}-a`, value: enc("first") },
      { topic: "other.topic", key: `${t}-b`, value: new Uint8Array([0, 255, 1]) },
    ]);
    const claimed = await claimMine(t, 60_000);
    expect(claimed.map((r) => [r.topic, r.key])).toEqual([["user.account.created.v1", `${t}-a`], ["other.topic", `${t}-b`]]);
    expect(dec(claimed[0]!.value)).toBe("first");
    expect([...claimed[1]!.value]).toEqual([0, 255, 1]);
    expect(await claimMine(t, 60_000)).toEqual([]); // leased
    await ctx.m.outbox.ack(claimed.map((r) => r.id));
    await ctx.m.outbox.ack([]);
    expect(await claimMine(t, 60_000)).toEqual([]);
  });

  test("outbox: a lease that runs out makes the records claimable again (the relay died before ack)", async () => {
    const t = tag();
    await newAccount(t, [{ topic: "user.account.created.v1", key: `${t}-x`, value: enc("x") }]);
    const first = await claimMine(t, 1);
    expect(first).toHaveLength(1);
    await Bun.sleep(20);
    const again = await claimMine(t, 60_000);
    expect(again.map((r) => r.id)).toEqual(first.map((r) => r.id));
    await ctx.m.outbox.ack(again.map((r) => r.id));
  });

  test("outbox: a user that cannot be created writes no record", async () => {
    const t = tag();
    await newAccount(t, []);
    await expectDomainError(newAccount(t, [{ topic: "user.account.created.v1", key: `${t}-dup`, value: enc("dup") }]), "conflict", "USERNAME_TAKEN");
    expect(await claimMine(t, 60_000)).toEqual([]);
  });
}
