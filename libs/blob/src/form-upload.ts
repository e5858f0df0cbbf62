/** An HTTP answer decided while handling a request (status + S3-style error code). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** Receives the file's bytes; throws (e.g. an HttpError) to stop the upload. */
export type ChunkSink = (chunk: Uint8Array) => Promise<void>;

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");
const bad = (message: string) => new HttpError(400, "MalformedPOSTRequest", message);

/**
 * Streams a browser-style S3 POST upload (multipart/form-data, fields first, then `file`):
 * collects the fields (names lower-cased, at most `maxFieldBytes` in all), then calls `onFile`
 * with them BEFORE any file byte is accepted, and feeds the file to the returned sink as it
 * arrives, so nothing larger than what the sink allows is ever buffered or stored. Parts after
 * the file are ignored (as S3 does). Resolves with the fields once the whole file was written.
 */
export async function readUploadForm(
  req: Request,
  onFile: (fields: Record<string, string>) => Promise<ChunkSink>,
  maxFieldBytes = 64 * 1024,
): Promise<Record<string, string>> {
  const m = /^multipart\/form-data\s*;.*\bboundary=(?:"([^"]+)"|([^\s;]+))/i.exec(req.headers.get("content-type") ?? "");
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary || !req.body) throw bad("expected a multipart/form-data body");
  const dash = Buffer.from(`--${boundary}`);
  const delim = Buffer.from(`\r\n--${boundary}`);
  const reader = req.body.getReader();
  let buf = Buffer.alloc(0);
  let ended = false;
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const r = await reader.read();
    if (r.done) {
      ended = true;
      return false;
    }
    buf = buf.length === 0 ? Buffer.from(r.value) : Buffer.concat([buf, r.value]);
    return true;
  };
  /** Waits until `needle` is in the buffer (which may not grow past `max`); returns its index. */
  const find = async (needle: Buffer, max: number, what: string): Promise<number> => {
    for (;;) {
      const i = buf.indexOf(needle);
      if (i >= 0) return i;
      if (buf.length > max) throw bad(`${what} too long`);
      if (!(await more())) throw bad(`body ended inside ${what}`);
    }
  };

  try {
    // (index first: `buf.subarray(await …)` would read `buf` before the await refills it)
    const start = await find(dash, 4096, "preamble");
    buf = buf.subarray(start + dash.length);
    const fields: Record<string, string> = {};
    let fieldBytes = 0;
    for (;;) {
      while (buf.length < 2) if (!(await more())) throw bad("body ended after a boundary");
      if (buf[0] === 0x2d && buf[1] === 0x2d) throw bad("no file part");
      const eol = await find(CRLF, 256, "boundary line");
      buf = buf.subarray(eol + 2);
      const h = await find(HEADER_END, 16 * 1024, "part headers");
      const headers = buf.subarray(0, h).toString("utf8");
      buf = buf.subarray(h + 4);
      const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? "";
      const name = (/\bname="([^"]*)"/i.exec(disposition)?.[1] ?? "").toLowerCase();
      if (name === "file") {
        const write = await onFile(fields);
        const keep = delim.length - 1; // a delimiter may straddle two chunks
        for (;;) {
          const j = buf.indexOf(delim);
          if (j >= 0) {
            if (j > 0) await write(buf.subarray(0, j));
            return fields;
          }
          if (buf.length > keep) {
            await write(buf.subarray(0, buf.length - keep));
            buf = buf.subarray(buf.length - keep);
          }
          if (!(await more())) throw bad("body ended inside the file");
        }
      }
      const j = await find(delim, maxFieldBytes, "form fields");
      fieldBytes += name.length + j;
      if (fieldBytes > maxFieldBytes) throw bad("form fields too long");
      fields[name] = buf.subarray(0, j).toString("utf8");
      buf = buf.subarray(j + delim.length);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
