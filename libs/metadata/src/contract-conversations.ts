import { expect, test } from "bun:test";
import { expectDomainError, newGroup, newUser, uid, type ContractContext } from "./contract-helpers.ts";

/** Conversations, private dedup and membership. */
export function describeConversationClauses(ctx: ContractContext): void {
  test("metadata: a group conversation has its creator as owner and the others as members", async () => {
    const { store } = ctx.m;
    const [owner, a, b] = [await newUser(store), await newUser(store), await newUser(store)];
    const id = uid();
    const res = await store.createConversation({
      id,
      type: "group",
      createdBy: owner.id,
      members: [a.id, owner.id, b.id, a.id],
      metadata: { title: "team", nested: { n: 1 } },
    });
    expect(res.created).toBe(true);
    expect(res.conversation).toMatchObject({ id, type: "group", createdBy: owner.id, lastSeq: 0, metadata: { title: "team", nested: { n: 1 } } });
    expect(await store.getConversation(id)).toEqual(res.conversation);
    const members = await store.listMembers(id);
    expect(members.map((m) => [m.userId, m.role]).sort()).toEqual(
      [[owner.id, "owner"], [a.id, "member"], [b.id, "member"]].sort(),
    );
    expect(members.every((m) => m.joinedAt > 0)).toBe(true);
    expect(await store.getConversation(uid())).toBeNull();
  });

  test("metadata: a private conversation for a pair that has one returns it with created false", async () => {
    const { store } = ctx.m;
    const [a, b] = [await newUser(store), await newUser(store)];
    const first = await store.createConversation({ id: uid(), type: "private", createdBy: a.id, members: [b.id], metadata: null });
    expect(first.created).toBe(true);
    expect(first.conversation.metadata).toBeNull();
    const again = await store.createConversation({ id: uid(), type: "private", createdBy: b.id, members: [a.id, b.id], metadata: null });
    expect(again).toEqual({ conversation: first.conversation, created: false });
    expect((await store.listMembers(first.conversation.id)).map((m) => m.userId).sort()).toEqual([a.id, b.id].sort());
  });

  test("metadata: a private conversation needs exactly two distinct members", async () => {
    const { store } = ctx.m;
    const [a, b, c] = [await newUser(store), await newUser(store), await newUser(store)];
    const mk = (members: string[]) => store.createConversation({ id: uid(), type: "private", createdBy: a.id, members, metadata: null });
    await expectDomainError(mk([b.id, c.id]), "invalid", "INVALID_MEMBERS");
    await expectDomainError(mk([a.id]), "invalid", "INVALID_MEMBERS");
    expect(await store.listConversations(a.id)).toEqual([]);
  });

  test("metadata: concurrent private creates for one pair yield one conversation", async () => {
    const { store } = ctx.m;
    const [a, b] = [await newUser(store), await newUser(store)];
    const ids = Array.from({ length: 10 }, () => uid());
    const results = await Promise.all(
      ids.map((id, i) =>
        store.createConversation({ id, type: "private", createdBy: i % 2 ? a.id : b.id, members: [i % 2 ? b.id : a.id], metadata: null }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const winner = results.find((r) => r.created)?.conversation.id as string;
    expect([...new Set(results.map((r) => r.conversation.id))]).toEqual([winner]);
    const existing = await Promise.all(ids.map((id) => store.getConversation(id)));
    expect(existing.filter((c) => c !== null)).toHaveLength(1);
    expect((await store.listConversations(a.id)).map((c) => c.id)).toEqual([winner]);
  });

  test("metadata: creating a conversation with an unknown member writes nothing", async () => {
    const { store } = ctx.m;
    const a = await newUser(store);
    const ghost = uid();
    const groupId = uid();
    await expectDomainError(
      store.createConversation({ id: groupId, type: "group", createdBy: a.id, members: [ghost], metadata: null }),
      "not_found",
      "USER_NOT_FOUND",
    );
    expect(await store.getConversation(groupId)).toBeNull();
    const privateId = uid();
    await expectDomainError(
      store.createConversation({ id: privateId, type: "private", createdBy: a.id, members: [ghost], metadata: null }),
      "not_found",
      "USER_NOT_FOUND",
    );
    expect(await store.getConversation(privateId)).toBeNull();
    expect(await store.listConversations(a.id)).toEqual([]);
    // The pair was not claimed: once the user exists, the private conversation can be created.
    const b = await store.createUser({ id: ghost, username: `g_${ghost.slice(0, 8)}`, email: `${ghost}@x.test`, name: "g", passwordHash: "h" });
    const res = await store.createConversation({ id: uid(), type: "private", createdBy: a.id, members: [b.id], metadata: null });
    expect(res.created).toBe(true);
  });

  test("metadata: reusing a conversation id raises CONVERSATION_EXISTS", async () => {
    const { store } = ctx.m;
    const a = await newUser(store);
    const g = await newGroup(store, a);
    await expectDomainError(
      store.createConversation({ id: g.id, type: "group", createdBy: a.id, members: [], metadata: null }),
      "conflict",
      "CONVERSATION_EXISTS",
    );
  });

  test("metadata: members are added once, removed once, re-added, with their roles", async () => {
    const { store } = ctx.m;
    const [owner, a] = [await newUser(store), await newUser(store)];
    const g = await newGroup(store, owner);
    expect(await store.memberRole(g.id, owner.id)).toBe("owner");
    expect(await store.memberRole(g.id, a.id)).toBeNull();
    expect(await store.addMember(g.id, a.id, "admin")).toBe(true);
    expect(await store.addMember(g.id, a.id, "member")).toBe(false);
    expect(await store.memberRole(g.id, a.id)).toBe("admin");
    expect((await store.listMembers(g.id)).find((m) => m.userId === a.id)?.role).toBe("admin");
    expect(await store.removeMember(g.id, a.id)).toBe(true);
    expect(await store.removeMember(g.id, a.id)).toBe(false);
    expect(await store.memberRole(g.id, a.id)).toBeNull();
    expect(await store.addMember(g.id, a.id, "member")).toBe(true);
    expect(await store.memberRole(g.id, a.id)).toBe("member");
    await expectDomainError(store.addMember(uid(), a.id, "member"), "not_found", "CONVERSATION_NOT_FOUND");
    await expectDomainError(store.removeMember(uid(), a.id), "not_found", "CONVERSATION_NOT_FOUND");
    await expectDomainError(store.addMember(g.id, uid(), "member"), "not_found", "USER_NOT_FOUND");
  });

  test("metadata: the members of a private conversation cannot change", async () => {
    const { store } = ctx.m;
    const [a, b, c] = [await newUser(store), await newUser(store), await newUser(store)];
    const { conversation: p } = await store.createConversation({ id: uid(), type: "private", createdBy: a.id, members: [b.id], metadata: null });
    await expectDomainError(store.addMember(p.id, c.id, "member"), "invalid", "PRIVATE_CONVERSATION_MEMBERS");
    await expectDomainError(store.removeMember(p.id, b.id), "invalid", "PRIVATE_CONVERSATION_MEMBERS");
    expect(await store.addMember(p.id, a.id, "member")).toBe(false);
    expect(await store.removeMember(p.id, c.id)).toBe(false);
    expect((await store.listMembers(p.id)).map((m) => m.userId).sort()).toEqual([a.id, b.id].sort());
  });

  test("metadata: listConversations holds the user's conversations, most recently active first", async () => {
    const { store, sequencer } = ctx.m;
    const [u, other] = [await newUser(store), await newUser(store)];
    // Activity is ordered by time: space the steps so that no two share a timestamp.
    const tick = () => Bun.sleep(5);
    const g1 = await newGroup(store, u);
    await tick();
    const g2 = await newGroup(store, other, [u]);
    await tick();
    const g3 = await newGroup(store, other);
    await tick();
    expect((await store.listConversations(u.id)).map((c) => c.id)).toEqual([g2.id, g1.id]);
    await sequencer.allocate(g1.id, [uid(), uid()]);
    const listed = await store.listConversations(u.id);
    expect(listed.map((c) => c.id)).toEqual([g1.id, g2.id]);
    expect(listed[0]?.lastSeq).toBe(2);
    await store.removeMember(g2.id, u.id);
    expect((await store.listConversations(u.id)).map((c) => c.id)).toEqual([g1.id]);
    expect((await store.listConversations(other.id)).map((c) => c.id)).toEqual([g3.id, g2.id]);
  });
}
