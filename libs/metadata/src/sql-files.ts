import { conflict, notFound } from "@chat4all/kernel";
import type { FileRecord } from "./metadata-store.ts";
import { FILE_COLS, guard, toFile, ts, type FileRow } from "./sql-common.ts";
import type { SqlDriver } from "./sql-driver.ts";

/** Stores a new file record (FILE_EXISTS when the key is taken). */
export function putFile(db: SqlDriver, f: FileRecord): Promise<void> {
  return guard("put file", async () => {
    await db.query(
      `INSERT INTO files (key, owner_id, filename, content_type, size, state, upload_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, ${ts(8)})`,
      [f.key, f.ownerId, f.filename, f.contentType, f.size, f.state, f.uploadId, f.createdAt],
    );
  });
}

/** The file record, or null. */
export function getFile(db: SqlDriver, key: string): Promise<FileRecord | null> {
  return guard("get file", async () => {
    const [row] = await db.query<FileRow>(`SELECT ${FILE_COLS} FROM files WHERE key = $1`, [key]);
    return row ? toFile(row) : null;
  });
}

/** Patches a file; its state only moves uploading → ready | rejected (FILE_STATE_CONFLICT otherwise). */
export function updateFile(db: SqlDriver, key: string, patch: Partial<Pick<FileRecord, "state" | "size" | "contentType" | "uploadId">>): Promise<void> {
  return guard("update file", async () => {
    // State only moves uploading → ready | rejected (setting the current state again is a no-op).
    const updated = await db.query(
      `UPDATE files SET state = coalesce($2, state), size = coalesce($3, size), content_type = coalesce($4, content_type),
         upload_id = CASE WHEN $5 THEN $6 ELSE upload_id END
       WHERE key = $1 AND ($2::text IS NULL OR state = 'uploading' OR state = $2::text) RETURNING 1`,
      [key, patch.state ?? null, patch.size ?? null, patch.contentType ?? null, "uploadId" in patch, patch.uploadId ?? null],
    );
    if (updated.length > 0) return;
    const [row] = await db.query<{ state: string }>("SELECT state FROM files WHERE key = $1", [key]);
    if (!row) throw notFound("FILE_NOT_FOUND", `file ${key} not found`);
    throw conflict("FILE_STATE_CONFLICT", `file ${key} is ${row.state} and cannot become ${patch.state}`);
  });
}

/** Records, idempotently, that a file was sent in a conversation. */
export function attachFile(db: SqlDriver, key: string, conversationId: string): Promise<void> {
  return guard("attach file", async () => {
    await db.query(
      "INSERT INTO file_conversations (file_key, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
      [key, conversationId],
    );
  });
}

/** Whether the file was attached in a conversation the user is a member of. */
export function fileVisibleTo(db: SqlDriver, key: string, userId: string): Promise<boolean> {
  return guard("file visible to", async () => {
    const [row] = await db.query<{ visible: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM file_conversations f JOIN conversation_members m ON m.conversation_id = f.conversation_id
         WHERE f.file_key = $1 AND m.user_id = $2) AS visible`,
      [key, userId],
    );
    return row?.visible === true;
  });
}

/** Whether the file was attached in that conversation. */
export function fileAttachedIn(db: SqlDriver, key: string, conversationId: string): Promise<boolean> {
  return guard("file attached in", async () => {
    const [row] = await db.query<{ attached: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM file_conversations WHERE file_key = $1 AND conversation_id = $2) AS attached",
      [key, conversationId],
    );
    return row?.attached === true;
  });
}

/** Uploads (single POST or multipart) still uploading that started before `before`, oldest first. */
export function staleUploads(db: SqlDriver, before: number, limit: number): Promise<FileRecord[]> {
  return guard("stale uploads", async () => {
    const rows = await db.query<FileRow>(
      `SELECT ${FILE_COLS} FROM files WHERE state = 'uploading' AND created_at < ${ts(1)}
       ORDER BY created_at, key LIMIT $2`,
      [before, Math.max(0, Math.floor(limit))],
    );
    return rows.map(toFile);
  });
}
