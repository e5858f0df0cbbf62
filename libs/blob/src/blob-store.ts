/**
 * BlobStore: file bytes, uploaded and downloaded directly by clients through presigned URLs
 * (MinIO/S3 in the cluster; a local folder served by the gateway embedded).
 *
 * Contract (checked by `contract.ts` against every adapter, with real HTTP uploads):
 * - `presignPost` returns a URL and form fields for a browser-style multipart/form-data POST
 *   (fields first, then `file`). The storage itself enforces the policy: the exact key, the
 *   content type, a size within `[minSize, maxSize]`, and the expiry; a violating upload is refused
 *   with a 4xx and stores nothing. A good upload answers 204.
 * - `presignGet` returns a URL that serves the object until it expires, with `Content-Disposition`
 *   when asked; after expiry (or with a tampered signature) it answers 403.
 * - Multipart: `createMultipart` → `presignPart` (PUT of the raw part bytes, answering an ETag
 *   header) → `completeMultipart` with the ETags assembles the object; `abortMultipart` discards it.
 * - `stat` returns the stored object's size and content type, or null.
 * - `copy` makes an independent copy under another key (later writes or deletes of the source do
 *   not touch it); copying a missing object fails with NO_SUCH_OBJECT.
 */
export interface BlobStore {
  /** Creates the bucket/folder if missing; idempotent. */
  init(): Promise<void>;
  presignPost(p: PresignPostInput): Promise<{ url: string; fields: Record<string, string> }>;
  presignGet(key: string, expiresSec: number, opts?: { contentDisposition?: string }): Promise<string>;
  stat(key: string): Promise<{ size: number; contentType: string } | null>;
  /** Copies the object at `from` to `to` (replacing whatever `to` held), inside the store. */
  copy(from: string, to: string): Promise<void>;
  createMultipart(key: string, contentType: string): Promise<string>;
  presignPart(key: string, uploadId: string, partNumber: number, expiresSec: number): Promise<string>;
  completeMultipart(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * For stores served by the gateway itself (embedded): handles a request under its URL prefix and
   * returns a Response, or undefined when the request is not its own. Absent for external stores.
   */
  handle?(req: Request): Promise<Response | undefined>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** What a presigned POST pins. */
export interface PresignPostInput {
  key: string;
  contentType: string;
  minSize: number;
  maxSize: number;
  expiresSec: number;
}
