import {
  type Listening,
  createConnectorService,
  createNotifierService,
  createProviderClient,
  createProviderSimulator,
  createPushClient,
  createPushSimulator,
  listenHttp,
  serversService,
} from "@chat4all/connectors";
import type { EventLog } from "@chat4all/eventlog";
import type { Logger, Service } from "@chat4all/kernel";
import type { PlatformConfig } from "./config.ts";
import type { Infra } from "./infra.ts";

/** Where the connectors and the notifier reach the providers. */
export interface ProviderUrls {
  whatsapp: string;
  instagram: string;
  push: string;
}

/**
 * Starts the WhatsApp, Instagram and push simulators at once on their configured ports (0 = any
 * free port). Their webhooks go to `<webhookBase()>/webhooks/<channel>`, resolved at each call (the
 * gateway may start after them). `service` keeps them up until shutdown.
 */
export function startSimulators(c: PlatformConfig, log: Logger, webhookBase: () => string | undefined = () => c.C4A_WEBHOOK_TARGET_URL) {
  const l = log.child({ app: "simulators" });
  const target = (channel: string) => () => {
    const base = webhookBase();
    return base ? `${base.replace(/\/+$/, "")}/webhooks/${channel}` : undefined;
  };
  const provider = (channel: "whatsapp" | "instagram", secret: string) =>
    createProviderSimulator({
      channel,
      webhookUrl: target(channel),
      webhookSecret: secret,
      apiKey: c.C4A_PROVIDER_API_KEY,
      deliveredAfterMs: c.C4A_SIM_DELIVERED_AFTER_MS,
      readAfterMs: c.C4A_SIM_READ_AFTER_MS,
      failRate: c.C4A_SIM_FAIL_RATE,
      log: l,
    });
  const whatsapp = provider("whatsapp", c.C4A_WHATSAPP_WEBHOOK_SECRET);
  const instagram = provider("instagram", c.C4A_INSTAGRAM_WEBHOOK_SECRET);
  const push = createPushSimulator({ apiKey: c.C4A_PROVIDER_API_KEY });
  const listen = (port: number, fetch: (r: Request) => Promise<Response>): Listening => listenHttp({ port, hostname: c.C4A_HOST, fetch, log: l });
  const servers = {
    whatsapp: listen(c.C4A_WHATSAPP_SIM_PORT, whatsapp.fetch),
    instagram: listen(c.C4A_INSTAGRAM_SIM_PORT, instagram.fetch),
    push: listen(c.C4A_PUSH_SIM_PORT, push.fetch),
  };
  const urls: ProviderUrls = { whatsapp: servers.whatsapp.url, instagram: servers.instagram.url, push: servers.push.url };
  l.info("simulators listening", { ...urls });
  const service = serversService("simulators", Object.values(servers), () => {
    whatsapp.close();
    instagram.close();
  });
  return { urls, service, whatsapp, instagram, push };
}

/** The configured provider URLs. */
export const providerUrls = (c: PlatformConfig): ProviderUrls => ({
  whatsapp: c.C4A_WHATSAPP_API_URL,
  instagram: c.C4A_INSTAGRAM_API_URL,
  push: c.C4A_PUSH_API_URL,
});

/** The WhatsApp and Instagram connectors and/or the notifier as Services, talking HTTP to the providers at `urls`. */
export async function channelServices(
  c: PlatformConfig,
  infra: Infra,
  events: EventLog,
  log: Logger,
  which: ("connectors" | "notifier")[],
  urls: ProviderUrls = providerUrls(c),
): Promise<Service[]> {
  const out: Service[] = [];
  const apiKey = c.C4A_PROVIDER_API_KEY;
  if (which.includes("connectors")) {
    const ephemeral = await infra.ephemeral();
    for (const channel of ["whatsapp", "instagram"] as const)
      out.push(
        createConnectorService({
          channel,
          events,
          ephemeral,
          provider: createProviderClient({ baseUrl: urls[channel], apiKey }),
          log: log.child({ app: "connectors" }),
        }),
      );
  }
  if (which.includes("notifier"))
    out.push(createNotifierService({ events, push: createPushClient({ baseUrl: urls.push, apiKey }), log: log.child({ app: "notifier" }) }));
  return out;
}
