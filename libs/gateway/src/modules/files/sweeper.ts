import type { BlobStore } from "@chat4all/blob";
import { type Logger, type Service, sleep } from "@chat4all/kernel";
import type { FileRecord, MetadataStore } from "@chat4all/metadata";
import { rejectFile } from "./service.ts";
import type { FileSettings } from "./settings.ts";

/** What the sweeper needs. */
export interface UploadSweeperDeps {
  metadata: MetadataStore;
  blobs: BlobStore;
  log: Logger;
}

/** When and what the sweeper cleans. */
export type UploadSweeperSettings = Pick<FileSettings, "abandonAfterSec" | "sweepIntervalSec"> & {
  /** Records fetched per round (default 100). */
  batch?: number;
  /** Which stale uploads this sweeper may touch (default all). */
  filter?: (f: FileRecord) => boolean;
};

/**
 * A Service that, every `sweepIntervalSec`, closes uploads still open `abandonAfterSec` after they
 * started — multipart uploads never completed, single POST uploads never sent: the record becomes
 * `rejected` and the storage drops the parts and any object.
 * Safe to run in every gateway at once; failures are logged and retried on the next round.
 * `sweepOnce()` runs one round and returns how many uploads it closed.
 */
export function createUploadSweeper(deps: UploadSweeperDeps, settings: UploadSweeperSettings): Service & { sweepOnce(now?: number): Promise<number> } {
  const batch = settings.batch ?? 100;
  const select = settings.filter ?? (() => true);

  async function sweepOnce(now = Date.now()): Promise<number> {
    const before = now - settings.abandonAfterSec * 1000;
    let closed = 0;
    // Each round removes what it closed from the stale set; stop when a page brings nothing new.
    for (let round = 0; round < 100; round++) {
      const stale = (await deps.metadata.staleUploads(before, batch)).filter(select);
      let progress = 0;
      for (const f of stale) {
        try {
          if ((await rejectFile(deps, f)).state === "rejected") progress++;
        } catch (err) {
          deps.log.warn("closing an abandoned upload failed", { key: f.key, err });
        }
      }
      closed += progress;
      if (progress === 0 || stale.length < batch) break;
    }
    if (closed > 0) deps.log.info("abandoned uploads closed", { count: closed });
    return closed;
  }

  return {
    name: "upload-sweeper",
    sweepOnce,
    async run(signal) {
      while (!signal.aborted) {
        try {
          await sweepOnce();
        } catch (err) {
          deps.log.warn("upload sweep failed", { err });
        }
        await sleep(settings.sweepIntervalSec * 1000, signal);
      }
    },
  };
}
