import { subjects } from "@chat4all/bus";
import { forbidden, invalid, notFound } from "@chat4all/kernel";
import type { Conversation } from "@chat4all/metadata";
import { encodeMembershipChange } from "@chat4all/pipeline";
import type { GatewayDeps } from "../../deps.ts";
import type { CreateConversationBody } from "./model.ts";

/** Conversations and groups: creation (private ones deduplicated), listing, membership with roles. */
export function createConversationService(deps: GatewayDeps) {
  const { metadata, members } = deps;

  const announce = (conversationId: string, userId: string, change: "added" | "removed") => {
    members.invalidate(conversationId);
    deps.bus.publish(subjects.membershipChanged, encodeMembershipChange({ conversationId, userId, change }));
  };

  /** The conversation, if the caller is a member; 403 `NOT_A_MEMBER` otherwise (also when it does not exist). */
  async function requireMember(conversationId: string, userId: string) {
    const role = await members.roleOf(conversationId, userId);
    if (!role) throw forbidden("NOT_A_MEMBER", "not a member of this conversation");
    return role;
  }

  const view = (c: Conversation, unread: number) => ({
    conversation_id: c.id,
    type: c.type,
    metadata: c.metadata ?? {},
    last_sequence_number: c.lastSeq,
    unread_count: unread,
    created_at: new Date(c.createdAt).toISOString(),
  });

  /**
   * Messages after the caller's read marker that others sent. The caller's own messages never count
   * (exact for the first 100 after the marker; beyond that, the rest is counted as unread).
   */
  async function unreadCount(c: Conversation, userId: string) {
    const receipts = await deps.messages.getReceipts(c.id);
    const readUpTo = receipts.find((r) => r.userId === userId)?.readUpTo ?? 0;
    const gap = c.lastSeq - readUpTo;
    if (gap <= 0) return 0;
    const page = await deps.messages.listMessages(c.id, { afterSeq: readUpTo, limit: 100, order: "asc" });
    return Math.max(0, gap - page.filter((m) => m.senderId === userId).length);
  }


  return {
    requireMember,

    async create(callerId: string, b: CreateConversationBody) {
      const others = [...new Set(b.members)].filter((id) => id !== callerId);
      if (b.type === "private" && others.length !== 1)
        throw invalid("INVALID_MEMBERS", "a private conversation has exactly one other member");
      if (b.type === "group" && others.length === 0) throw invalid("INVALID_MEMBERS", "a group needs at least one other member");
      const found = await metadata.getUsers(others);
      if (found.length !== others.length) throw invalid("UNKNOWN_USER", "some members do not exist");
      const { conversation, created } = await metadata.createConversation({
        id: crypto.randomUUID(),
        type: b.type,
        createdBy: callerId,
        members: [callerId, ...others],
        metadata: b.metadata ?? null,
      });
      if (created) for (const id of [callerId, ...others]) announce(conversation.id, id, "added");
      return { created, body: { conversation_id: conversation.id, created_at: new Date(conversation.createdAt).toISOString() } };
    },

    async list(callerId: string) {
      const list = await metadata.listConversations(callerId);
      return Promise.all(list.map(async (c) => view(c, await unreadCount(c, callerId))));
    },

    async get(callerId: string, id: string) {
      await requireMember(id, callerId);
      const c = await metadata.getConversation(id);
      if (!c) throw notFound("CONVERSATION_NOT_FOUND", "no such conversation");
      const list = await metadata.listMembers(id);
      return { ...view(c, await unreadCount(c, callerId)), members: list.map((m) => ({ user_id: m.userId, role: m.role })) };
    },

    async addMember(callerId: string, id: string, userId: string, role: "admin" | "member") {
      const callerRole = await requireMember(id, callerId);
      const c = await metadata.getConversation(id);
      if (c?.type !== "group") throw invalid("NOT_A_GROUP", "members can only be added to groups");
      if (callerRole === "member") throw forbidden("NOT_AN_ADMIN", "only the owner or an admin can add members");
      if (role === "admin" && callerRole !== "owner") throw forbidden("NOT_THE_OWNER", "only the owner can add admins");
      if (!(await metadata.getUser(userId))) throw notFound("USER_NOT_FOUND", "no such user");
      const added = await metadata.addMember(id, userId, role);
      if (added) announce(id, userId, "added");
      return { status: added ? "added" : "already_member", user_id: userId };
    },

    async removeMember(callerId: string, id: string, userId: string) {
      const callerRole = await requireMember(id, callerId);
      const c = await metadata.getConversation(id);
      if (c?.type !== "group") throw invalid("NOT_A_GROUP", "members can only be removed from groups");
      if (userId !== callerId) {
        if (callerRole === "member") throw forbidden("NOT_AN_ADMIN", "only the owner or an admin can remove members");
        const targetRole = await members.roleOf(id, userId);
        if (!targetRole) throw notFound("MEMBER_NOT_FOUND", "not a member");
        if (targetRole === "owner" || (targetRole === "admin" && callerRole !== "owner"))
          throw forbidden("NOT_THE_OWNER", "only the owner can remove admins; nobody removes the owner");
      }
      const removed = await metadata.removeMember(id, userId);
      if (removed) announce(id, userId, "removed");
      return { status: removed ? "removed" : "not_member", user_id: userId };
    },
  };
}
