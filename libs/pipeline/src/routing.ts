import { type Channel, EXTERNAL_CHANNELS, type StoredMessage } from "@chat4all/kernel";
import type { Identity } from "@chat4all/metadata";

/** One outbound delivery to an external platform. */
export interface ExternalRoute {
  recipientId: string;
  channel: Exclude<Channel, "delivery">;
  externalId: string;
}

/** Where one stored message goes. */
export interface Routes {
  /** Whether the platform's own clients receive it (published once per conversation). */
  delivery: boolean;
  /** Recipients to notify by push when they have no live session (only when `delivery`). */
  recipients: string[];
  /** External deliveries, one per recipient and channel they have an identity on. */
  external: ExternalRoute[];
}

/**
 * Routing: every member but the sender is a recipient; `target_channels` (default `delivery`)
 * selects channels; `all` means the platform's clients plus every external channel a recipient
 * has an identity on. An external channel named explicitly reaches only recipients linked on it.
 */
export function routeMessage(m: StoredMessage, memberIds: string[], identities: Identity[]): Routes {
  const targets = new Set(m.targetChannels.length > 0 ? m.targetChannels : ["delivery"]);
  const all = targets.has("all");
  const recipients = memberIds.filter((id) => id !== m.senderId);
  const external: ExternalRoute[] = [];
  for (const channel of EXTERNAL_CHANNELS) {
    if (!all && !targets.has(channel)) continue;
    // A message that came in from a channel is not echoed back to that channel.
    if (m.origin === channel) continue;
    for (const idn of identities) {
      if (idn.channel === channel && idn.userId !== m.senderId && recipients.includes(idn.userId))
        external.push({ recipientId: idn.userId, channel, externalId: idn.externalId });
    }
  }
  return { delivery: all || targets.has("delivery"), recipients, external };
}
