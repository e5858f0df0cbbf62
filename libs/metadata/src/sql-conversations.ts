import { invalid, notFound } from "@chat4all/kernel";
import type { Conversation, Member, NewConversation, Role } from "./metadata-store.ts";
import { CONVERSATION_COLS, guard, MEMBER_COLS, toConversation, toMember, type ConversationRow } from "./sql-common.ts";
import type { SqlDriver } from "./sql-driver.ts";

/** Creates a conversation and its members in one transaction; a private pair already taken returns its conversation. */
export function createConversation(db: SqlDriver, c: NewConversation): Promise<{ conversation: Conversation; created: boolean }> {
  const members = [...new Set([c.createdBy, ...c.members])];
  if (c.type === "private" && members.length !== 2) {
    return Promise.reject(invalid("INVALID_MEMBERS", "a private conversation has exactly two distinct members"));
  }
  return guard("create conversation", () =>
    db.transaction(async (tx) => {
      if (c.type === "private") {
        const pair = [members[0], members[1], c.id];
        const claimed = await tx.query(
          `INSERT INTO private_pairs (user_a, user_b, conversation_id)
           VALUES (least($1 COLLATE "C", $2 COLLATE "C"), greatest($1 COLLATE "C", $2 COLLATE "C"), $3)
           ON CONFLICT (user_a, user_b) DO NOTHING RETURNING conversation_id`,
          pair,
        );
        if (claimed.length === 0) {
          // Another create for this pair committed first (ON CONFLICT waited for it): return that one.
          const [existing] = await tx.query<ConversationRow>(
            `SELECT ${CONVERSATION_COLS} FROM private_pairs p JOIN conversations c ON c.id = p.conversation_id
             WHERE p.user_a = least($1 COLLATE "C", $2 COLLATE "C") AND p.user_b = greatest($1 COLLATE "C", $2 COLLATE "C")`,
            pair.slice(0, 2),
          );
          if (!existing) throw new Error("private pair claimed but its conversation is missing");
          return { conversation: toConversation(existing), created: false };
        }
      }
      const [row] = await tx.query<ConversationRow>(
        `INSERT INTO conversations AS c (id, type, metadata, created_by) VALUES ($1, $2, $3::text::jsonb, $4)
         RETURNING ${CONVERSATION_COLS}`,
        [c.id, c.type, c.metadata == null ? null : JSON.stringify(c.metadata), c.createdBy],
      );
      await tx.query(
        `INSERT INTO conversation_members (conversation_id, user_id, role)
         SELECT $1, m.u, CASE WHEN m.u = $2 THEN 'owner' ELSE 'member' END FROM unnest($3::text[]) AS m(u)`,
        [c.id, c.createdBy, members],
      );
      return { conversation: toConversation(row as ConversationRow), created: true };
    }),
  );
}

/** The conversation, or null. */
export function getConversation(db: SqlDriver, id: string): Promise<Conversation | null> {
  return guard("get conversation", async () => {
    const [row] = await db.query<ConversationRow>(`SELECT ${CONVERSATION_COLS} FROM conversations c WHERE c.id = $1`, [id]);
    return row ? toConversation(row) : null;
  });
}

/** The user's conversations, most recently active first. */
export function listConversations(db: SqlDriver, userId: string): Promise<Conversation[]> {
  return guard("list conversations", async () => {
    const rows = await db.query<ConversationRow>(
      `SELECT ${CONVERSATION_COLS} FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
       WHERE m.user_id = $1 ORDER BY c.updated_at DESC, c.created_at DESC, c.id`,
      [userId],
    );
    return rows.map(toConversation);
  });
}

/** Members of a conversation, earliest joined first. */
export function listMembers(db: SqlDriver, conversationId: string): Promise<Member[]> {
  return guard("list members", async () => {
    const rows = await db.query<{ user_id: string; role: Role; joined_at: number }>(
      `SELECT ${MEMBER_COLS} FROM conversation_members WHERE conversation_id = $1 ORDER BY joined_at, user_id`,
      [conversationId],
    );
    return rows.map(toMember);
  });
}

/** The member's role, or null when not a member. */
export function memberRole(db: SqlDriver, conversationId: string, userId: string): Promise<Role | null> {
  return guard("member role", async () => {
    const [row] = await db.query<{ role: Role }>(
      "SELECT role FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
      [conversationId, userId],
    );
    return row?.role ?? null;
  });
}

/** Adds a member to a group; false when already one; private conversations refuse new members. */
export function addMember(db: SqlDriver, conversationId: string, userId: string, role: Role): Promise<boolean> {
  return guard("add member", async () => {
    const added = await db.query(
      `INSERT INTO conversation_members (conversation_id, user_id, role)
       SELECT id, $2, $3 FROM conversations WHERE id = $1 AND type = 'group'
       ON CONFLICT (conversation_id, user_id) DO NOTHING RETURNING 1`,
      [conversationId, userId, role],
    );
    if (added.length > 0) return true;
    return explainNoChange(db, conversationId, userId, "join");
  });
}

/** Removes a member from a group; false when not one; private conversations refuse removals. */
export function removeMember(db: SqlDriver, conversationId: string, userId: string): Promise<boolean> {
  return guard("remove member", async () => {
    const removed = await db.query(
      `DELETE FROM conversation_members m USING conversations c
       WHERE m.conversation_id = $1 AND m.user_id = $2 AND c.id = m.conversation_id AND c.type = 'group'
       RETURNING 1`,
      [conversationId, userId],
    );
    if (removed.length > 0) return true;
    return explainNoChange(db, conversationId, userId, "leave");
  });
}

/** Why add/remove changed nothing: unknown conversation, private conversation, or already (not) a member. */
async function explainNoChange(db: SqlDriver, conversationId: string, userId: string, what: "join" | "leave"): Promise<false> {
  const [row] = await db.query<{ type: string; member: boolean }>(
    `SELECT type, EXISTS (SELECT 1 FROM conversation_members WHERE conversation_id = $1 AND user_id = $2) AS member
     FROM conversations WHERE id = $1`,
    [conversationId, userId],
  );
  if (!row) throw notFound("CONVERSATION_NOT_FOUND", `conversation ${conversationId} not found`);
  if (row.type === "private" && row.member === (what === "leave")) {
    throw invalid("PRIVATE_CONVERSATION_MEMBERS", "members of a private conversation cannot change");
  }
  return false;
}
