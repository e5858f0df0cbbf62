-- Chat4All metadata: users, identities, refresh tokens, conversations, members, sequences, files.
-- Ids are opaque text (UUIDs in practice); times are timestamptz.

CREATE TABLE users (
  id            text PRIMARY KEY,
  username      text NOT NULL,
  email         text NOT NULL,
  name          text NOT NULL,
  password_hash text NOT NULL,
  avatar_url    text,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_username_c_idx ON users (username COLLATE "C");

CREATE TABLE user_identities (
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  channel     text NOT NULL CHECK (channel IN ('whatsapp', 'instagram')),
  external_id text NOT NULL,
  linked_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT user_identities_pkey PRIMARY KEY (user_id, channel),
  CONSTRAINT user_identities_channel_external_key UNIQUE (channel, external_id)
);

CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id  text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  revoked    boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

CREATE TABLE conversations (
  id         text PRIMARY KEY,
  type       text NOT NULL CHECK (type IN ('private', 'group')),
  metadata   jsonb,
  created_by text NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- last activity (creation or the latest seq allocation): orders a user's conversation list
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_seq   bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
);

CREATE TABLE conversation_members (
  conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role            text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT conversation_members_pkey PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id);

-- One private conversation per unordered pair of users (user_a < user_b); the primary key makes
-- concurrent creates for the same pair converge (INSERT … ON CONFLICT DO NOTHING).
CREATE TABLE private_pairs (
  user_a          text COLLATE "C" NOT NULL,
  user_b          text COLLATE "C" NOT NULL,
  conversation_id text NOT NULL UNIQUE
    REFERENCES conversations (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT private_pairs_pkey PRIMARY KEY (user_a, user_b),
  CHECK (user_a < user_b)
);

CREATE TABLE message_sequences (
  message_id      text PRIMARY KEY,
  conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  seq             bigint NOT NULL CHECK (seq > 0),
  CONSTRAINT message_sequences_conversation_seq_key UNIQUE (conversation_id, seq)
);

CREATE TABLE files (
  key          text PRIMARY KEY,
  owner_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  filename     text NOT NULL,
  content_type text NOT NULL,
  size         bigint NOT NULL CHECK (size >= 0),
  state        text NOT NULL CHECK (state IN ('uploading', 'ready', 'rejected')),
  upload_id    text,
  created_at   timestamptz NOT NULL
);
CREATE INDEX files_stale_uploads_idx ON files (created_at) WHERE state = 'uploading' AND upload_id IS NOT NULL;

CREATE TABLE file_conversations (
  file_key        text NOT NULL REFERENCES files (key) ON DELETE CASCADE,
  conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  attached_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT file_conversations_pkey PRIMARY KEY (file_key, conversation_id)
);
CREATE INDEX file_conversations_conversation_idx ON file_conversations (conversation_id);
