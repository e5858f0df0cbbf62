const MiB = 1024 * 1024;

/** File upload/download tunables of a gateway (C4A_FILE_* in the platform config). */
export interface FileSettings {
  /** Largest single presigned POST upload. */
  maxBytes: number;
  /** Largest multipart upload. */
  multipartMaxBytes: number;
  /** Preferred multipart part size (≥ 5 MiB, the S3 minimum for every part but the last). */
  partBytes: number;
  /** Allowed content types, lowercase, `type/*` and `*\/*` wildcards allowed. */
  allowedTypes: string[];
  /** Lifetime of presigned upload URLs (≤ 3600 s). */
  uploadTtlSec: number;
  /** Lifetime of presigned download URLs. */
  viewTtlSec: number;
  /** Uploads (single POST never sent, multipart never completed) still open after this long are closed by the sweeper. */
  abandonAfterSec: number;
  /** How often the sweeper looks for abandoned uploads. */
  sweepIntervalSec: number;
}

/** The default allow-list: media, PDF, plain text/CSV, ZIP and the common office formats. */
export const DEFAULT_ALLOWED_TYPES = [
  "image/*",
  "video/mp4",
  "video/webm",
  "video/quicktime",
  "audio/*",
  "application/pdf",
  "text/plain",
  "text/csv",
  "application/zip",
  "application/rtf",
  "application/msword",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.ms-excel",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.ms-powerpoint",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  "application/vnd.oasis.opendocument.text",
  "application/vnd.oasis.opendocument.spreadsheet",
  "application/vnd.oasis.opendocument.presentation",
];

/** Defaults used when the composition root passes no file settings. */
export const DEFAULT_FILE_SETTINGS: FileSettings = {
  maxBytes: 100 * MiB,
  multipartMaxBytes: 2048 * MiB,
  partBytes: 8 * MiB,
  allowedTypes: DEFAULT_ALLOWED_TYPES,
  uploadTtlSec: 3600,
  viewTtlSec: 300,
  abandonAfterSec: 86_400,
  sweepIntervalSec: 300,
};

/** S3 limits on multipart uploads. */
export const S3_MIN_PART_BYTES = 5 * MiB;
export const S3_MAX_PARTS = 10_000;

/** The part size for an upload of `size` bytes: the configured one, grown so that no more than 10 000 parts are needed. */
export function partSizeFor(size: number, s: FileSettings): number {
  return Math.max(s.partBytes, S3_MIN_PART_BYTES, Math.ceil(size / S3_MAX_PARTS));
}

/** The largest request body a gateway serving the embedded store must accept (a form upload or one part, plus slack). */
export function uploadBodyCeiling(s: FileSettings = DEFAULT_FILE_SETTINGS): number {
  return Math.max(s.maxBytes, partSizeFor(s.multipartMaxBytes, s)) + MiB;
}
