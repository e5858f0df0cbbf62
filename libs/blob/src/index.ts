export type { BlobStore, PresignPostInput } from "./blob-store.ts";
export { createBlobStore, type BlobStoreConfig } from "./create.ts";
export { createLocalBlobStore, type LocalBlobStoreConfig } from "./blob-store-local.ts";
export { createMinioBlobStore, type MinioBlobStoreConfig } from "./blob-store-minio.ts";
