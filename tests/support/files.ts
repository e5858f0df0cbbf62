// Helpers for file tests: deterministic bytes, hashes, and a browser-style presigned POST upload.

/** `n` pseudo-random bytes, the same for the same seed. */
export function bytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** SHA-256 of bytes, hex. */
export const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** A browser-style upload: the presigned fields (optionally overridden) first, then the file; returns the status. */
export async function upload(presigned: { upload_url: string; fields: Record<string, string> }, body: Uint8Array<ArrayBuffer>, override: Record<string, string> = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries({ ...presigned.fields, ...override })) form.append(k, v);
  form.append("file", new Blob([body]), "upload.bin");
  const res = await fetch(presigned.upload_url, { method: "POST", body: form });
  await res.arrayBuffer();
  return res.status;
}
