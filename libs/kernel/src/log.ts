/** Structured JSON logger. Never pass secrets (passwords, tokens, keys) in `extra`. */
export interface Logger {
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
  debug(msg: string, extra?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const levels = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
/** Log levels, lowest first. */
export type LogLevel = keyof typeof levels;

const SECRET_KEYS = /pass(word)?|secret|token|authorization|signature|api[_-]?key/i;

function scrub(extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra)) {
    if (SECRET_KEYS.test(k)) out[k] = "[redacted]";
    else if (v instanceof Error) out[k] = { message: v.message, cause: v.cause instanceof Error ? v.cause.message : v.cause };
    else out[k] = v;
  }
  return out;
}

/** A logger writing one JSON object per line to stdout (stderr for warn/error); secret-looking keys are redacted. */
export function createLogger(level: LogLevel = "info", fields: Record<string, unknown> = {}): Logger {
  const min = levels[level];
  const write = (lvl: Exclude<LogLevel, "silent">, msg: string, extra?: Record<string, unknown>) => {
    if (levels[lvl] < min) return;
    const line = JSON.stringify({ t: new Date().toISOString(), level: lvl, msg, ...fields, ...(extra ? scrub(extra) : {}) });
    if (levels[lvl] >= levels.warn) console.error(line);
    else console.log(line);
  };
  return {
    debug: (m, e) => write("debug", m, e),
    info: (m, e) => write("info", m, e),
    warn: (m, e) => write("warn", m, e),
    error: (m, e) => write("error", m, e),
    child: (f) => createLogger(level, { ...fields, ...f }),
  };
}
