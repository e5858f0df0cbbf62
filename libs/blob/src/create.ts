import { createLocalBlobStore, type LocalBlobStoreConfig } from "./blob-store-local.ts";
import { createMinioBlobStore, type MinioBlobStoreConfig } from "./blob-store-minio.ts";
import type { BlobStore } from "./blob-store.ts";

/** Which BlobStore to build and how to reach it. */
export type BlobStoreConfig = ({ backend: "local" } & LocalBlobStoreConfig) | ({ backend: "minio" } & MinioBlobStoreConfig);

/** Builds the BlobStore named by `config.backend` (call `init()` before use). */
export function createBlobStore(config: BlobStoreConfig): BlobStore {
  switch (config.backend) {
    case "local":
      return createLocalBlobStore(config);
    case "minio":
      return createMinioBlobStore(config);
    default:
      throw new Error(`unknown blob store backend: "${(config as { backend: string }).backend}"`);
  }
}
