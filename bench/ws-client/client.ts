// A minimal RFC 6455 WebSocket client over `Bun.connect`, for load generation: unlike Bun's built-in
// WebSocket it can bind a local address (127.0.0.x), so one machine can open more sockets to one
// server than one source address has ports. Text/binary messages are handed over as byte ranges
// (no decoding, no copy unless a frame straddles two reads); pings are answered; frames it sends are
// masked, as the RFC requires of clients.
import type { Socket, TCPSocketConnectOptions } from "bun";
import { createHash } from "node:crypto";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Options of one client socket. */
export interface WsClientOptions {
  hostname: string;
  port: number;
  /** Request target, e.g. `/ws?token=…`. */
  path: string;
  /** Source address to bind (e.g. `127.0.0.3`); the kernel picks one when absent. */
  localAddress?: string;
  /** Gives up when the handshake has not completed after this long (default 15 s). */
  timeoutMs?: number;
  /** One complete data message (opcode 1 text or 2 binary) in `buf[start, end)`; valid only during the call. */
  onMessage?: (buf: Uint8Array, start: number, end: number, opcode: number) => void;
  /** The connection ended: the close code the server sent (1006 when there was no close frame). */
  onClose?: (code: number, reason: string) => void;
}

/** An open client socket. */
export interface WsClient {
  /** Sends one masked text frame. */
  send(text: string): void;
  /** Sends a close frame (the server answers and ends the connection). */
  close(code?: number, reason?: string): void;
  /** True until a close frame was seen or sent, or the connection ended. */
  readonly isOpen: boolean;
}

/** Encodes one masked client frame (FIN set). */
export function encodeClientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65_536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4 + len);
  out[0] = 0x80 | opcode;
  if (ext === 0) out[1] = 0x80 | len;
  else if (ext === 2) {
    out[1] = 0x80 | 126;
    out[2] = len >>> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(len));
  }
  const maskAt = 2 + ext;
  crypto.getRandomValues(out.subarray(maskAt, maskAt + 4));
  for (let i = 0; i < len; i++) out[maskAt + 4 + i] = (payload[i] as number) ^ (out[maskAt + (i & 3)] as number);
  return out;
}

const indexOfCrlfCrlf = (b: Uint8Array) => {
  for (let i = 3; i < b.length; i++) if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i + 1;
  return -1;
};

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Per-connection state (one shared handler object serves every socket). */
class Conn {
  stage: "handshake" | "open" | "closed" = "handshake";
  rest: Uint8Array | null = null;
  fragments: Uint8Array[] | null = null;
  fragmentOpcode = 0;
  unsent: Uint8Array[] = [];
  closeSent = false;
  closeCode = 1006;
  closeReason = "";
  readonly key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  constructor(
    readonly opts: WsClientOptions,
    readonly settle: (err?: Error) => void,
  ) {}

  write(s: Socket<Conn>, bytes: Uint8Array) {
    if (this.unsent.length > 0) {
      this.unsent.push(bytes);
      return;
    }
    const n = s.write(bytes);
    if (n < bytes.length) this.unsent.push(bytes.subarray(Math.max(0, n)));
  }

  flush(s: Socket<Conn>) {
    while (this.unsent.length > 0) {
      const head = this.unsent[0] as Uint8Array;
      const n = s.write(head);
      if (n < head.length) {
        this.unsent[0] = head.subarray(Math.max(0, n));
        return;
      }
      this.unsent.shift();
    }
  }

  onData(s: Socket<Conn>, chunk: Uint8Array) {
    let buf = this.rest ? concat(this.rest, chunk) : chunk;
    this.rest = null;
    if (this.stage === "handshake") {
      const end = indexOfCrlfCrlf(buf);
      if (end < 0) {
        if (buf.length > 16_384) return this.fail(s, new Error("handshake: response headers too large"));
        this.rest = buf.slice();
        return;
      }
      const head = dec.decode(buf.subarray(0, end));
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
      if (status !== "101") return this.fail(s, new Error(`handshake: status ${status ?? "?"}: ${head.split("\r\n")[0]}`));
      const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
      const expected = createHash("sha1").update(this.key + GUID).digest("base64");
      if (accept !== expected) return this.fail(s, new Error("handshake: bad Sec-WebSocket-Accept"));
      this.stage = "open";
      this.settle();
      buf = buf.subarray(end);
    }
    this.parse(s, buf);
  }

  parse(s: Socket<Conn>, buf: Uint8Array) {
    let off = 0;
    const n = buf.length;
    while (this.stage === "open" && n - off >= 2) {
      const b0 = buf[off] as number;
      const b1 = buf[off + 1] as number;
      let len = b1 & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (n - off < 4) break;
        len = ((buf[off + 2] as number) << 8) | (buf[off + 3] as number);
        hdr = 4;
      } else if (len === 127) {
        if (n - off < 10) break;
        len = Number(new DataView(buf.buffer, buf.byteOffset + off + 2, 8).getBigUint64(0));
        hdr = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      if (masked) hdr += 4;
      if (n - off < hdr + len) break;
      const start = off + hdr;
      const end = start + len;
      if (masked) for (let i = 0; i < len; i++) buf[start + i] = (buf[start + i] as number) ^ (buf[off + hdr - 4 + (i & 3)] as number);
      this.frame(s, (b0 & 0x80) !== 0, b0 & 0x0f, buf, start, end);
      off = end;
    }
    if (off < n && this.stage === "open") this.rest = buf.slice(off);
  }

  frame(s: Socket<Conn>, fin: boolean, opcode: number, buf: Uint8Array, start: number, end: number) {
    switch (opcode) {
      case 0: // continuation
        if (!this.fragments) return this.fail(s, new Error("protocol: continuation without a first fragment"));
        this.fragments.push(buf.slice(start, end));
        if (fin) {
          const whole = this.fragments.reduce((a, b) => concat(a, b));
          this.fragments = null;
          this.opts.onMessage?.(whole, 0, whole.length, this.fragmentOpcode);
        }
        return;
      case 1:
      case 2:
        if (fin) return this.opts.onMessage?.(buf, start, end, opcode);
        this.fragments = [buf.slice(start, end)];
        this.fragmentOpcode = opcode;
        return;
      case 8: {
        this.closeCode = end - start >= 2 ? ((buf[start] as number) << 8) | (buf[start + 1] as number) : 1005;
        this.closeReason = end - start > 2 ? dec.decode(buf.subarray(start + 2, end)) : "";
        if (!this.closeSent) {
          this.closeSent = true;
          this.write(s, encodeClientFrame(8, buf.slice(start, Math.min(end, start + 2))));
        }
        this.stage = "closed";
        s.end();
        return;
      }
      case 9: // ping → pong with the same payload
        this.write(s, encodeClientFrame(10, buf.slice(start, end)));
        return;
      case 10: // pong
        return;
      default:
        return this.fail(s, new Error(`protocol: unknown opcode ${opcode}`));
    }
  }

  fail(s: Socket<Conn>, err: Error) {
    const wasHandshake = this.stage === "handshake";
    this.stage = "closed";
    s.end();
    if (wasHandshake) this.settle(err);
  }
}

const handlers = {
  open(s: Socket<Conn>) {
    const c = s.data;
    const { hostname, port, path } = c.opts;
    c.write(
      s,
      enc.encode(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${c.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
  },
  data(s: Socket<Conn>, chunk: Uint8Array) {
    s.data.onData(s, chunk);
  },
  drain(s: Socket<Conn>) {
    s.data.flush(s);
  },
  close(s: Socket<Conn>) {
    const c = s.data;
    const wasHandshake = c.stage === "handshake";
    c.stage = "closed";
    if (wasHandshake) c.settle(new Error("handshake: connection closed"));
    else c.opts.onClose?.(c.closeCode, c.closeReason);
  },
  error(s: Socket<Conn>, err: Error) {
    s.data.fail(s, err);
  },
  connectError(s: Socket<Conn>, err: Error) {
    s.data.settle(new Error(`connect: ${err.message}`, { cause: err }));
  },
};

/** Opens a WebSocket; resolves once the server accepted the upgrade (a 101 with the right accept key). */
export function connectWebSocket(opts: WsClientOptions): Promise<WsClient> {
  return new Promise<WsClient>((resolve, reject) => {
    let settled = false;
    let socket: Socket<Conn> | undefined;
    const timer = setTimeout(() => conn.settle(new Error(`handshake: no answer within ${opts.timeoutMs ?? 15_000} ms`)), opts.timeoutMs ?? 15_000);
    const conn: Conn = new Conn(opts, (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        socket?.end();
        reject(err);
        return;
      }
      resolve({
        send(text: string) {
          if (conn.stage === "open" && !conn.closeSent && socket) conn.write(socket, encodeClientFrame(1, enc.encode(text)));
        },
        close(code = 1000, reason = "") {
          if (conn.stage !== "open" || conn.closeSent || !socket) return;
          conn.closeSent = true;
          const r = enc.encode(reason);
          const body = new Uint8Array(2 + r.length);
          body[0] = code >>> 8;
          body[1] = code & 0xff;
          body.set(r, 2);
          conn.write(socket, encodeClientFrame(8, body));
        },
        get isOpen() {
          return conn.stage === "open" && !conn.closeSent;
        },
      });
    });
    // `localAddress` binds the source address (missing from bun-types, supported by Bun.connect).
    const options: TCPSocketConnectOptions<Conn> & { localAddress?: string } = {
      hostname: opts.hostname,
      port: opts.port,
      localAddress: opts.localAddress,
      data: conn,
      socket: handlers,
    };
    Bun.connect<Conn>(options).then(
      (s) => {
        socket = s;
        if (settled && conn.stage !== "open") s.end();
      },
      (err: Error) => conn.settle(new Error(`connect: ${err.message}`, { cause: err })),
    );
  });
}
