/** What a driver runs statements through: a pool, a single connection or an open transaction. */
export interface SqlExecutor {
  /** Runs one parameterized statement ($1, $2 …) and returns its rows. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * A minimal SQL connection the metadata store is written against (PostgreSQL dialect).
 * `transaction` runs `fn` in BEGIN … COMMIT on one connection and rolls back when `fn` throws.
 */
export interface SqlDriver extends SqlExecutor {
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The SQLSTATE and constraint of a database error, when `e` is one. */
export function pgErrorOf(e: unknown): { code: string; constraint: string | undefined } | null {
  if (typeof e !== "object" || e === null) return null;
  const { code, constraint } = e as { code?: unknown; constraint?: unknown };
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return null;
  return { code, constraint: typeof constraint === "string" ? constraint : undefined };
}
