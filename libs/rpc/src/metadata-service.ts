import type { ServiceImpl } from "@connectrpc/connect";
import type { FileRecord, MetadataStore } from "@chat4all/metadata";
import { MetadataService } from "@chat4all/proto/chat4all/v1/metadata_pb";
import { withConnectErrors } from "./errors.ts";
import {
  channels,
  conversationToPb,
  conversationTypes,
  fileFromPb,
  fileStates,
  fileToPb,
  identityToPb,
  memberToPb,
  required,
  roles,
  tokenFromPb,
  tokenToPb,
  userToPb,
} from "./metadata-mapping.ts";

type FilePatch = Partial<Pick<FileRecord, "state" | "size" | "contentType" | "uploadId">>;

/**
 * Serves a MetadataStore as MetadataService, one RPC per port method with the same semantics.
 * DomainErrors of the store reach clients with their kind and code; other errors as Internal.
 */
export function createMetadataService(store: MetadataStore): ServiceImpl<typeof MetadataService> {
  return withConnectErrors({
    async createUser(req) {
      const user = await store.createUser({
        id: req.id,
        username: req.username,
        email: req.email,
        name: req.name,
        passwordHash: req.passwordHash,
        avatarUrl: req.avatarUrl ?? null,
        ...(req.announce.length > 0 ? { announce: req.announce.map((r) => ({ topic: r.topic, key: r.key, value: r.value })) } : {}),
      });
      return { user: userToPb(user) };
    },
    async getUser(req) {
      const u = await store.getUser(req.id);
      return { user: u ? userToPb(u) : undefined };
    },
    async getUserByUsername(req) {
      const u = await store.getUserByUsername(req.username);
      return { user: u ? userToPb(u) : undefined };
    },
    async getUsers(req) {
      return { users: (await store.getUsers(req.ids)).map(userToPb) };
    },
    async searchUsers(req) {
      const q: Parameters<MetadataStore["searchUsers"]>[0] = { limit: req.limit };
      if (req.text !== undefined) q.text = req.text;
      if (req.afterUsername !== undefined) q.afterUsername = req.afterUsername;
      return { users: (await store.searchUsers(q)).map(userToPb) };
    },

    async linkIdentity(req) {
      await store.linkIdentity(req.userId, channels.fromPb(req.channel, "channel"), req.externalId);
      return {};
    },
    async listIdentities(req) {
      return { identities: (await store.listIdentities(req.userId)).map(identityToPb) };
    },
    async identitiesOf(req) {
      return { identities: (await store.identitiesOf(req.userIds)).map(identityToPb) };
    },
    async findUserByIdentity(req) {
      const id = await store.findUserByIdentity(channels.fromPb(req.channel, "channel"), req.externalId);
      return { userId: id ?? undefined };
    },

    async putRefreshToken(req) {
      await store.putRefreshToken(tokenFromPb(required(req.token, "token")));
      return {};
    },
    async consumeRefreshToken(req) {
      const t = await store.consumeRefreshToken(req.tokenHash, Number(req.nowMs));
      if (t === null) return {};
      return { token: tokenToPb(t), reused: t.reused };
    },
    async revokeRefreshFamily(req) {
      await store.revokeRefreshFamily(req.familyId);
      return {};
    },

    async createConversation(req) {
      const { conversation, created } = await store.createConversation({
        id: req.id,
        type: conversationTypes.fromPb(req.type, "type"),
        createdBy: req.createdBy,
        members: req.members,
        metadata: req.metadata ?? null,
      });
      return { conversation: conversationToPb(conversation), created };
    },
    async getConversation(req) {
      const c = await store.getConversation(req.id);
      return { conversation: c ? conversationToPb(c) : undefined };
    },
    async listConversations(req) {
      return { conversations: (await store.listConversations(req.userId)).map(conversationToPb) };
    },
    async listMembers(req) {
      return { members: (await store.listMembers(req.conversationId)).map(memberToPb) };
    },
    async memberRole(req) {
      const role = await store.memberRole(req.conversationId, req.userId);
      return { role: role === null ? 0 : roles.toPb(role) };
    },
    async addMember(req) {
      return { added: await store.addMember(req.conversationId, req.userId, roles.fromPb(req.role, "role")) };
    },
    async removeMember(req) {
      return { removed: await store.removeMember(req.conversationId, req.userId) };
    },

    async putFile(req) {
      await store.putFile(fileFromPb(required(req.file, "file")));
      return {};
    },
    async getFile(req) {
      const f = await store.getFile(req.key);
      return { file: f ? fileToPb(f) : undefined };
    },
    async updateFile(req) {
      const patch: FilePatch = {};
      if (req.state !== undefined) patch.state = fileStates.fromPb(req.state, "state");
      if (req.size !== undefined) patch.size = Number(req.size);
      if (req.contentType !== undefined) patch.contentType = req.contentType;
      if (req.clearUploadId) patch.uploadId = null;
      else if (req.uploadId !== undefined) patch.uploadId = req.uploadId;
      await store.updateFile(req.key, patch);
      return {};
    },
    async attachFile(req) {
      await store.attachFile(req.key, req.conversationId);
      return {};
    },
    async fileVisibleTo(req) {
      return { visible: await store.fileVisibleTo(req.key, req.userId) };
    },
    async fileAttachedIn(req) {
      return { attached: await store.fileAttachedIn(req.key, req.conversationId) };
    },
    async staleUploads(req) {
      return { files: (await store.staleUploads(Number(req.beforeMs), req.limit)).map(fileToPb) };
    },

    async healthy() {
      return { healthy: await store.healthy() };
    },
  } satisfies ServiceImpl<typeof MetadataService>);
}
