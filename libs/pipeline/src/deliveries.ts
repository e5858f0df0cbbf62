/**
 * What travels on the Bus to gateways: a one-line routing header, then the ready-made WebSocket frame.
 * Gateways read the header without parsing the frame and send the frame bytes as they are.
 *
 * Header: `<kind> <conversationId> <seq> <from>\n` where kind is `m` (message: ordered, resumable)
 * or `e` (any other frame: status, typing, presence); conversationId, seq and from (the user who
 * caused it, whose own sockets skip `e` frames on conversation subjects) are `-`/0 when not relevant.
 */
export interface Delivery {
  kind: "m" | "e";
  conversationId: string;
  seq: number;
  frame: string;
  from?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Encodes a delivery for the Bus. */
export function encodeDelivery(d: Delivery): Uint8Array {
  return enc.encode(`${d.kind} ${d.conversationId || "-"} ${d.seq} ${d.from || "-"}\n${d.frame}`);
}

/** Decodes a delivery; null for anything malformed (the Bus is not trusted to be clean). */
export function decodeDelivery(bytes: Uint8Array): Delivery | null {
  const text = dec.decode(bytes);
  const nl = text.indexOf("\n");
  if (nl < 0) return null;
  const [kind, conversationId, seqText, from] = text.slice(0, nl).split(" ");
  const seq = Number(seqText);
  if ((kind !== "m" && kind !== "e") || !conversationId || !from || !Number.isInteger(seq) || seq < 0) return null;
  return {
    kind,
    conversationId: conversationId === "-" ? "" : conversationId,
    seq,
    frame: text.slice(nl + 1),
    ...(from === "-" ? {} : { from }),
  };
}

/** Membership change notice on `membership.changed`. */
export interface MembershipChange {
  conversationId: string;
  userId: string;
  change: "added" | "removed";
}

/** Encodes a membership change for the Bus. */
export const encodeMembershipChange = (c: MembershipChange) => enc.encode(JSON.stringify(c));

/** Decodes a membership change; null when malformed. */
export function decodeMembershipChange(bytes: Uint8Array): MembershipChange | null {
  try {
    const c = JSON.parse(dec.decode(bytes)) as MembershipChange;
    if (typeof c.conversationId !== "string" || typeof c.userId !== "string" || (c.change !== "added" && c.change !== "removed"))
      return null;
    return c;
  } catch {
    return null;
  }
}
