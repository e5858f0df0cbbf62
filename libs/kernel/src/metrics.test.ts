import { describe, expect, test } from "bun:test";
import { createMetrics } from "./metrics.ts";

describe("metrics", () => {
  test("metrics: counters, gauges and histograms render in the Prometheus text format", () => {
    const m = createMetrics("t_");
    const hits = m.counter("hits_total", "Hits.");
    hits({ route: "/a" });
    hits({ route: "/a" }, 2);
    hits({ route: 'we"ird' });
    let open = 3;
    m.gauge("open", "Open things.", () => open);
    const lat = m.histogram("latency_seconds", "Latency.", [0.01, 0.1, 1]);
    lat(0.005);
    lat(0.05);
    lat(5);
    open = 4;
    const text = m.render();
    expect(text).toContain('t_hits_total{route="/a"} 3');
    expect(text).toContain('t_hits_total{route="we_ird"} 1');
    expect(text).toContain("# TYPE t_open gauge\nt_open 4");
    expect(text).toContain('t_latency_seconds_bucket{le="0.01"} 1');
    expect(text).toContain('t_latency_seconds_bucket{le="0.1"} 2');
    expect(text).toContain('t_latency_seconds_bucket{le="1"} 2');
    expect(text).toContain('t_latency_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain("t_latency_seconds_count 3");
  });
});
