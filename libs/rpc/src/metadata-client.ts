import { createClient, type Transport } from "@connectrpc/connect";
import type { MetadataStore } from "@chat4all/metadata";
import { MetadataService } from "@chat4all/proto/chat4all/v1/metadata_pb";
import { fromConnectError } from "./errors.ts";
import {
  channels,
  conversationFromPb,
  conversationTypes,
  fileFromPb,
  fileStates,
  fileToPb,
  i64,
  identityFromPb,
  memberFromPb,
  required,
  roles,
  struct,
  tokenFromPb,
  tokenToPb,
  userFromPb,
} from "./metadata-mapping.ts";

/**
 * A MetadataStore calling MetadataService over `transport` (the whole port). `init` and `close`
 * are local no-ops (the server owns migrations and connections); `healthy` asks the server and is
 * false when it cannot be reached. Server DomainErrors come back with the same kind and code; an
 * unreachable server raises `unavailable("METADATA_UNAVAILABLE")`; anything else an Error with context.
 */
export function createMetadataClient(transport: Transport, opts: { timeoutMs?: number } = {}): MetadataStore {
  const client = createClient(MetadataService, transport);
  const callOpts = { timeoutMs: opts.timeoutMs ?? 10_000 };
  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fromConnectError(err, `metadata rpc ${what}`, "METADATA_UNAVAILABLE");
    }
  }

  return {
    init: async () => {},
    close: async () => {},
    healthy: async () => {
      try {
        return (await client.healthy({}, callOpts)).healthy;
      } catch {
        return false;
      }
    },

    createUser: (u) =>
      call("CreateUser", async () => {
        const res = await client.createUser(
          {
            id: u.id,
            username: u.username,
            email: u.email,
            name: u.name,
            passwordHash: u.passwordHash,
            avatarUrl: u.avatarUrl ?? undefined,
            announce: u.announce?.map((r) => ({ topic: r.topic, key: r.key, value: r.value })),
          },
          callOpts,
        );
        return userFromPb(required(res.user, "user"));
      }),
    getUser: (id) =>
      call("GetUser", async () => {
        const res = await client.getUser({ id }, callOpts);
        return res.user ? userFromPb(res.user) : null;
      }),
    getUserByUsername: (username) =>
      call("GetUserByUsername", async () => {
        const res = await client.getUserByUsername({ username }, callOpts);
        return res.user ? userFromPb(res.user) : null;
      }),
    getUsers: (ids) => call("GetUsers", async () => (await client.getUsers({ ids }, callOpts)).users.map(userFromPb)),
    searchUsers: (q) =>
      call("SearchUsers", async () => (await client.searchUsers(q, callOpts)).users.map(userFromPb)),

    linkIdentity: (userId, channel, externalId) =>
      call("LinkIdentity", async () => {
        await client.linkIdentity({ userId, channel: channels.toPb(channel), externalId }, callOpts);
      }),
    listIdentities: (userId) =>
      call("ListIdentities", async () =>
        (await client.listIdentities({ userId }, callOpts)).identities.map(identityFromPb),
      ),
    identitiesOf: (userIds) =>
      call("IdentitiesOf", async () => (await client.identitiesOf({ userIds }, callOpts)).identities.map(identityFromPb)),
    findUserByIdentity: (channel, externalId) =>
      call("FindUserByIdentity", async () => {
        const res = await client.findUserByIdentity({ channel: channels.toPb(channel), externalId }, callOpts);
        return res.userId ?? null;
      }),

    putRefreshToken: (t) =>
      call("PutRefreshToken", async () => {
        await client.putRefreshToken({ token: tokenToPb(t) }, callOpts);
      }),
    consumeRefreshToken: (tokenHash, now) =>
      call("ConsumeRefreshToken", async () => {
        const res = await client.consumeRefreshToken({ tokenHash, nowMs: i64(now) }, callOpts);
        return res.token ? { ...tokenFromPb(res.token), reused: res.reused } : null;
      }),
    revokeRefreshFamily: (familyId) =>
      call("RevokeRefreshFamily", async () => {
        await client.revokeRefreshFamily({ familyId }, callOpts);
      }),

    createConversation: (c) =>
      call("CreateConversation", async () => {
        const res = await client.createConversation(
          {
            id: c.id,
            type: conversationTypes.toPb(c.type),
            createdBy: c.createdBy,
            members: c.members,
            metadata: struct(c.metadata),
          },
          callOpts,
        );
        return { conversation: conversationFromPb(required(res.conversation, "conversation")), created: res.created };
      }),
    getConversation: (id) =>
      call("GetConversation", async () => {
        const res = await client.getConversation({ id }, callOpts);
        return res.conversation ? conversationFromPb(res.conversation) : null;
      }),
    listConversations: (userId) =>
      call("ListConversations", async () =>
        (await client.listConversations({ userId }, callOpts)).conversations.map(conversationFromPb),
      ),
    listMembers: (conversationId) =>
      call("ListMembers", async () => (await client.listMembers({ conversationId }, callOpts)).members.map(memberFromPb)),
    memberRole: (conversationId, userId) =>
      call("MemberRole", async () => {
        const res = await client.memberRole({ conversationId, userId }, callOpts);
        return res.role === 0 ? null : roles.fromPb(res.role, "role");
      }),
    addMember: (conversationId, userId, role) =>
      call("AddMember", async () =>
        (await client.addMember({ conversationId, userId, role: roles.toPb(role) }, callOpts)).added,
      ),
    removeMember: (conversationId, userId) =>
      call("RemoveMember", async () => (await client.removeMember({ conversationId, userId }, callOpts)).removed),

    putFile: (f) =>
      call("PutFile", async () => {
        await client.putFile({ file: fileToPb(f) }, callOpts);
      }),
    getFile: (key) =>
      call("GetFile", async () => {
        const res = await client.getFile({ key }, callOpts);
        return res.file ? fileFromPb(res.file) : null;
      }),
    updateFile: (key, patch) =>
      call("UpdateFile", async () => {
        await client.updateFile(
          {
            key,
            state: patch.state === undefined ? undefined : fileStates.toPb(patch.state),
            size: patch.size === undefined ? undefined : i64(patch.size),
            contentType: patch.contentType,
            uploadId: patch.uploadId ?? undefined,
            clearUploadId: patch.uploadId === null,
          },
          callOpts,
        );
      }),
    attachFile: (key, conversationId) =>
      call("AttachFile", async () => {
        await client.attachFile({ key, conversationId }, callOpts);
      }),
    fileVisibleTo: (key, userId) =>
      call("FileVisibleTo", async () => (await client.fileVisibleTo({ key, userId }, callOpts)).visible),
    fileAttachedIn: (key, conversationId) =>
      call("FileAttachedIn", async () => (await client.fileAttachedIn({ key, conversationId }, callOpts)).attached),
    staleUploads: (before, limit) =>
      call("StaleUploads", async () =>
        (await client.staleUploads({ beforeMs: i64(before), limit }, callOpts)).files.map(fileFromPb),
      ),
  };
}
