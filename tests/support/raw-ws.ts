// A deliberately slow WebSocket client for tests: a raw TCP socket that completes the handshake
// and then stops reading, so the server's send queue for it fills up.
import net from "node:net";

/** Opens `/ws?token=` and pauses reading right after the handshake. */
export async function openPausedSocket(base: string, token: string) {
  const url = new URL(base);
  const sock = net.connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", () => resolve());
    sock.once("error", reject);
  });
  sock.write(
    `GET /ws?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let buf: Buffer = await new Promise((resolve) => sock.once("data", (d: Buffer) => resolve(d)));
  const head = buf.indexOf("\r\n\r\n");
  if (!buf.subarray(0, head).toString().startsWith("HTTP/1.1 101")) throw new Error(`upgrade refused: ${buf.toString().slice(0, 200)}`);
  buf = buf.subarray(head + 4);
  sock.pause();
  return {
    /** Resumes reading and resolves with the close code the server sent (or null if the connection just dropped). */
    readUntilClose(timeoutMs = 20_000): Promise<{ code: number | null; frames: number }> {
      return new Promise((resolve) => {
        let frames = 0;
        const done = (code: number | null) => {
          clearTimeout(timer);
          sock.destroy();
          resolve({ code, frames });
        };
        const timer = setTimeout(() => done(null), timeoutMs);
        const parse = () => {
          for (;;) {
            if (buf.length < 2) return;
            const opcode = buf[0]! & 0x0f;
            let len = buf[1]! & 0x7f;
            let off = 2;
            if (len === 126) {
              if (buf.length < 4) return;
              len = buf.readUInt16BE(2);
              off = 4;
            } else if (len === 127) {
              if (buf.length < 10) return;
              len = Number(buf.readBigUInt64BE(2));
              off = 10;
            }
            if (buf.length < off + len) return;
            const payload = buf.subarray(off, off + len);
            buf = buf.subarray(off + len);
            if (opcode === 0x8) return done(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
            frames++;
          }
        };
        sock.on("data", (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          parse();
        });
        sock.on("close", () => done(null));
        sock.resume();
        parse();
      });
    },
    destroy: () => sock.destroy(),
  };
}
