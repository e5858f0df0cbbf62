import { expect } from "bun:test";
import { isDomainError, type ErrorKind } from "@chat4all/kernel";
import type { Metadata } from "./create.ts";
import type { Conversation, MetadataStore, User } from "./metadata-store.ts";

/** The store under test, resolved once per suite (getters read it lazily inside tests). */
export interface ContractContext {
  readonly m: Metadata;
}

/** A random 10-character tag that keeps tests sharing one database apart. */
export const tag = () => crypto.randomUUID().replaceAll("-", "").slice(0, 10);
/** A fresh id. */
export const uid = () => crypto.randomUUID();

/** Creates a user with a unique username and email. */
export async function newUser(store: MetadataStore, over: Partial<{ username: string; email: string; name: string }> = {}): Promise<User> {
  const t = tag();
  return store.createUser({
    id: uid(),
    username: over.username ?? `u_${t}`,
    email: over.email ?? `${t}@example.test`,
    name: over.name ?? `User ${t}`,
    passwordHash: `hash-${t}`,
  });
}

/** Creates a group conversation of `owner` with `members`. */
export async function newGroup(store: MetadataStore, owner: User, members: User[] = []): Promise<Conversation> {
  const { conversation } = await store.createConversation({
    id: uid(),
    type: "group",
    createdBy: owner.id,
    members: members.map((u) => u.id),
    metadata: { title: `g-${tag()}` },
  });
  return conversation;
}

/** Asserts that `p` rejects with a DomainError of this kind and code. */
export async function expectDomainError(p: Promise<unknown>, kind: ErrorKind, code: string): Promise<void> {
  let caught: unknown = null;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught).not.toBeNull();
  if (!isDomainError(caught)) throw new Error(`expected DomainError ${code}, got ${String(caught)}`, { cause: caught });
  expect({ kind: caught.kind, code: caught.code }).toEqual({ kind, code });
}
