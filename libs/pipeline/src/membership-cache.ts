import { type Bus, subjects } from "@chat4all/bus";
import type { Member, MetadataStore } from "@chat4all/metadata";
import { decodeMembershipChange } from "./deliveries.ts";

/** Cached conversation members, dropped on `membership.changed` from any instance and after `ttlMs`. */
export interface MembershipCache {
  members(conversationId: string): Promise<Member[]>;
  /** The user's role, or null when not a member. */
  roleOf(conversationId: string, userId: string): Promise<Member["role"] | null>;
  invalidate(conversationId: string): void;
  close(): void;
}

/** Creates the cache and subscribes it to membership changes on the Bus. */
export function createMembershipCache(deps: { metadata: MetadataStore; bus: Bus; ttlMs?: number; maxEntries?: number }): MembershipCache {
  const ttlMs = deps.ttlMs ?? 30_000;
  const maxEntries = deps.maxEntries ?? 50_000;
  const entries = new Map<string, { at: number; members: Promise<Member[]> }>();
  const sub = deps.bus.subscribe(subjects.membershipChanged, (data) => {
    const c = decodeMembershipChange(data);
    if (c) entries.delete(c.conversationId);
  });
  const members = (conversationId: string) => {
    const now = Date.now();
    const hit = entries.get(conversationId);
    if (hit && now - hit.at < ttlMs) return hit.members;
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
    const p = deps.metadata.listMembers(conversationId);
    entries.set(conversationId, { at: now, members: p });
    p.catch(() => entries.delete(conversationId));
    return p;
  };
  return {
    members,
    async roleOf(conversationId, userId) {
      return (await members(conversationId)).find((m) => m.userId === userId)?.role ?? null;
    },
    invalidate: (conversationId) => void entries.delete(conversationId),
    close: () => sub.unsubscribe(),
  };
}
