/**
 * An event that can never be processed: undecodable bytes or invalid content. Retrying cannot
 * help, so a consumer sends the record to the DLQ with `reason` (`EventLog.deadLetter`) and moves on.
 */
export class PoisonEventError extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`poison event: ${reason}`, options);
    this.name = "PoisonEventError";
  }
}

/** True when `e` is a PoisonEventError (works across module copies). */
export function isPoisonEventError(e: unknown): e is PoisonEventError {
  return e instanceof PoisonEventError || (e instanceof Error && e.name === "PoisonEventError" && "reason" in e);
}
