import { expect, test } from "bun:test";
import { expectDomainError, newUser, tag, uid, type ContractContext } from "./contract-helpers.ts";

/** Users, identities and refresh tokens. */
export function describeUserClauses(ctx: ContractContext): void {
  test("metadata: init is idempotent and the store reports healthy", async () => {
    await ctx.m.store.init();
    await ctx.m.store.init();
    expect(await ctx.m.store.healthy()).toBe(true);
  });

  test("metadata: a created user is found by id and by username in any case", async () => {
    const { store } = ctx.m;
    const before = Date.now();
    const u = await newUser(store, { username: `Mixed_${tag()}` });
    expect(u.createdAt).toBeGreaterThanOrEqual(before - 60_000);
    expect(u.avatarUrl).toBeNull();
    expect(await store.getUser(u.id)).toEqual(u);
    expect(await store.getUserByUsername(u.username.toUpperCase())).toEqual(u);
    expect(await store.getUserByUsername(u.username.toLowerCase())).toEqual(u);
    expect(await store.getUser(uid())).toBeNull();
    expect(await store.getUserByUsername(`nobody_${tag()}`)).toBeNull();
  });

  test("metadata: a username taken in another case raises USERNAME_TAKEN and writes nothing", async () => {
    const { store } = ctx.m;
    const u = await newUser(store, { username: `Taken_${tag()}` });
    const email = `${tag()}@example.test`;
    await expectDomainError(newUser(store, { username: u.username.toUpperCase(), email }), "conflict", "USERNAME_TAKEN");
    const other = await newUser(store, { email }); // the failed attempt did not keep the email
    expect(other.email).toBe(email);
  });

  test("metadata: an email taken in another case raises EMAIL_TAKEN and writes nothing", async () => {
    const { store } = ctx.m;
    const u = await newUser(store, { email: `Mail.${tag()}@Example.test` });
    const username = `free_${tag()}`;
    await expectDomainError(newUser(store, { username, email: u.email.toLowerCase() }), "conflict", "EMAIL_TAKEN");
    expect(await store.getUserByUsername(username)).toBeNull();
  });

  test("metadata: getUsers returns the known users in the order asked", async () => {
    const { store } = ctx.m;
    const a = await newUser(store);
    const b = await newUser(store);
    expect((await store.getUsers([b.id, uid(), a.id])).map((u) => u.id)).toEqual([b.id, a.id]);
    expect(await store.getUsers([])).toEqual([]);
  });

  test("metadata: searchUsers matches username or name case-insensitively, pages by username, and treats % and _ literally", async () => {
    const { store } = ctx.m;
    const t = tag();
    const names = [`b_${t}`, `a%${t}`, `c${t}x`, `ax${t}`];
    for (const username of names) await newUser(store, { username });
    const byName = await newUser(store, { name: `Someone ${t.toUpperCase()} Else` });
    const all = await store.searchUsers({ text: t.toUpperCase(), limit: 50 });
    expect(all.map((u) => u.username)).toEqual([...names, byName.username].sort());
    const page1 = await store.searchUsers({ text: t, limit: 2 });
    const page2 = await store.searchUsers({ text: t, limit: 2, afterUsername: page1.at(-1)?.username });
    expect([...page1, ...page2].map((u) => u.username)).toEqual(all.slice(0, 4).map((u) => u.username));
    expect((await store.searchUsers({ text: `%${t}`, limit: 50 })).map((u) => u.username)).toEqual([`a%${t}`]);
    expect((await store.searchUsers({ text: `_${t}`, limit: 50 })).map((u) => u.username)).toEqual([`b_${t}`]);
    expect(await store.searchUsers({ text: `zz${t}`, limit: 50 })).toEqual([]);
    expect((await store.searchUsers({ limit: 3 })).length).toBe(3);
  });

  test("metadata: an identity belongs to one user; relinking one's own is a no-op; linking again on a channel replaces it", async () => {
    const { store } = ctx.m;
    const [a, b] = [await newUser(store), await newUser(store)];
    const phone = `+55${Date.now()}${tag()}`;
    await store.linkIdentity(a.id, "whatsapp", phone);
    await store.linkIdentity(a.id, "whatsapp", phone);
    expect(await store.findUserByIdentity("whatsapp", phone)).toBe(a.id);
    await expectDomainError(store.linkIdentity(b.id, "whatsapp", phone), "conflict", "IDENTITY_TAKEN");
    expect(await store.findUserByIdentity("whatsapp", phone)).toBe(a.id);
    expect(await store.listIdentities(b.id)).toEqual([]);
    expect(await store.findUserByIdentity("instagram", phone)).toBeNull(); // channels are separate namespaces

    const phone2 = `${phone}-2`;
    await store.linkIdentity(a.id, "whatsapp", phone2);
    await store.linkIdentity(a.id, "instagram", `ig_${phone}`);
    expect(await store.listIdentities(a.id)).toEqual([
      { userId: a.id, channel: "instagram", externalId: `ig_${phone}` },
      { userId: a.id, channel: "whatsapp", externalId: phone2 },
    ]);
    expect(await store.findUserByIdentity("whatsapp", phone)).toBeNull();
    await store.linkIdentity(b.id, "whatsapp", phone); // freed by the replacement
    const both = await store.identitiesOf([a.id, b.id]);
    expect(both).toHaveLength(3);
    expect(both).toContainEqual({ userId: b.id, channel: "whatsapp", externalId: phone });
    await expectDomainError(store.linkIdentity(uid(), "instagram", `x_${tag()}`), "not_found", "USER_NOT_FOUND");
  });

  test("metadata: a refresh token is consumed once; later uses are reported as reuse; unknown tokens are null", async () => {
    const { store } = ctx.m;
    const u = await newUser(store);
    const t = { tokenHash: `h_${tag()}`, userId: u.id, familyId: `f_${tag()}`, expiresAt: Date.now() + 3_600_000 };
    await store.putRefreshToken(t);
    expect(await store.consumeRefreshToken(t.tokenHash, Date.now())).toEqual({ ...t, reused: false });
    expect(await store.consumeRefreshToken(t.tokenHash, Date.now())).toEqual({ ...t, reused: true });
    expect(await store.consumeRefreshToken(`h_${tag()}`, Date.now())).toBeNull();
  });

  test("metadata: revoking a family makes its unused tokens report reuse", async () => {
    const { store } = ctx.m;
    const u = await newUser(store);
    const familyId = `f_${tag()}`;
    const mk = () => ({ tokenHash: `h_${tag()}`, userId: u.id, familyId, expiresAt: Date.now() + 60_000 });
    const [t1, t2] = [mk(), mk()];
    const other = { ...mk(), familyId: `f_${tag()}` };
    for (const t of [t1, t2, other]) await store.putRefreshToken(t);
    await store.revokeRefreshFamily(familyId);
    expect((await store.consumeRefreshToken(t2.tokenHash, Date.now()))?.reused).toBe(true);
    expect((await store.consumeRefreshToken(other.tokenHash, Date.now()))?.reused).toBe(false);
  });

  test("metadata: concurrent consumes of one refresh token succeed exactly once", async () => {
    const { store } = ctx.m;
    const u = await newUser(store);
    const t = { tokenHash: `h_${tag()}`, userId: u.id, familyId: `f_${tag()}`, expiresAt: Date.now() + 60_000 };
    await store.putRefreshToken(t);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.consumeRefreshToken(t.tokenHash, Date.now())));
    expect(results.filter((r) => r?.reused === false)).toHaveLength(1);
    expect(results.filter((r) => r?.reused === true)).toHaveLength(7);
  });
}
