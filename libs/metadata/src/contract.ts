import { afterAll, beforeAll, describe } from "bun:test";
import type { LocalMetadata } from "./create.ts";
import { describeConversationClauses } from "./contract-conversations.ts";
import { describeFileClauses } from "./contract-files.ts";
import { describeOutboxClauses } from "./contract-outbox.ts";
import type { ContractContext } from "./contract-helpers.ts";
import { describeSequencerClauses } from "./contract-sequencer.ts";
import { describeUserClauses } from "./contract-users.ts";

/** Options of the metadata contract suite. */
export interface MetadataContractOptions {
  /** Bound for creating and migrating the store (PGlite's first start is slow). Default 60 s. */
  startupTimeoutMs?: number;
}

/**
 * Asserts every clause of the MetadataStore, Sequencer and Outbox contracts against one store made by
 * `make` (shared by all tests, which isolate themselves through fresh ids and usernames); the suite
 * calls `init()` itself and closes the store at the end.
 */
export function describeMetadataContract(label: string, make: () => Promise<LocalMetadata>, opts: MetadataContractOptions = {}): void {
  describe(`metadata contract (${label})`, () => {
    let made: LocalMetadata | undefined;
    const ctx: ContractContext & { readonly m: LocalMetadata } = {
      get m() {
        if (!made) throw new Error("metadata contract: store was not created");
        return made;
      },
    };
    beforeAll(async () => {
      made = await make();
      await made.store.init();
    }, opts.startupTimeoutMs ?? 60_000);
    afterAll(async () => {
      await made?.store.close();
    });
    describeUserClauses(ctx);
    describeConversationClauses(ctx);
    describeFileClauses(ctx);
    describeSequencerClauses(ctx);
    describeOutboxClauses(ctx);
  });
}
