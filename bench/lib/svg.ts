// A self-contained SVG chart of a run: latency p50/p99 per second (log scale) above throughput per
// second, warmup shaded. No dependencies.

const W = 960;
const PAD = { l: 64, r: 150, t: 40, b: 36 };
const LAT_H = 300;
const GAP = 50;
const THR_H = 170;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface Line {
  label: string;
  color: string;
  dash?: string;
  values: number[];
}

function path(values: number[], x: (i: number) => number, y: (v: number) => number): string {
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  return d;
}

function legend(lines: Line[], x: number, y: number): string {
  return lines
    .map((l, i) => {
      const yy = y + i * 18;
      return `<line x1="${x}" y1="${yy}" x2="${x + 22}" y2="${yy}" stroke="${l.color}" stroke-width="2"${l.dash ? ` stroke-dasharray="${l.dash}"` : ""}/>` +
        `<text x="${x + 28}" y="${yy + 4}" font-size="12">${esc(l.label)}</text>`;
    })
    .join("");
}

/** The chart as SVG text; `rows` are the per-second rows of pipeline.json. */
export function latencyChart(rows: Record<string, unknown>[], opts: { title: string; warmupS: number }): string {
  const n = Math.max(2, rows.length);
  const plotW = W - PAD.l - PAD.r;
  const x = (i: number) => PAD.l + (i / (n - 1)) * plotW;
  const col = (k: string) => rows.map((r) => Number(r[k]));
  const lat: Line[] = [
    { label: "send→socket p99", color: "#d62728", values: col("deliver_p99_ms") },
    { label: "send→socket p50", color: "#ff9896", values: col("deliver_p50_ms") },
    { label: "accept p99", color: "#1f77b4", dash: "5 3", values: col("accept_p99_ms") },
    { label: "accept p50", color: "#aec7e8", dash: "5 3", values: col("accept_p50_ms") },
  ];
  const thr: Line[] = [
    { label: "sent/s", color: "#7f7f7f", dash: "2 2", values: col("sent") },
    { label: "accepted/s", color: "#1f77b4", values: col("accepted") },
    { label: "delivered/s", color: "#2ca02c", values: col("delivered") },
    { label: "stored/s (est.)", color: "#9467bd", dash: "4 2", values: col("stored_est") },
  ];
  // Latency: log10 scale from 0.1 ms to the next power of ten above the max.
  const latMax = Math.max(1, ...lat.flatMap((l) => l.values.filter(Number.isFinite)));
  const lo = -1;
  const hi = Math.ceil(Math.log10(latMax * 1.05));
  const latTop = PAD.t;
  const yLat = (v: number) => latTop + LAT_H - ((Math.log10(Math.max(0.1, v)) - lo) / (hi - lo)) * LAT_H;
  const thrMax = Math.max(1, ...thr.flatMap((l) => l.values.filter(Number.isFinite)));
  const step = 10 ** Math.floor(Math.log10(thrMax));
  const thrCeil = Math.ceil((thrMax * 1.05) / step) * step;
  const thrTop = PAD.t + LAT_H + GAP;
  const yThr = (v: number) => thrTop + THR_H - (v / thrCeil) * THR_H;
  const H = thrTop + THR_H + PAD.b;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${PAD.l}" y="22" font-size="15" font-weight="bold">${esc(opts.title)}</text>`);
  const warmEnd = Math.min(n - 1, opts.warmupS);
  for (const [top, h] of [[latTop, LAT_H], [thrTop, THR_H]] as const) {
    if (opts.warmupS > 0) parts.push(`<rect x="${PAD.l}" y="${top}" width="${(x(warmEnd) - PAD.l).toFixed(1)}" height="${h}" fill="#f2f2f2"/>`);
    parts.push(`<rect x="${PAD.l}" y="${top}" width="${plotW}" height="${h}" fill="none" stroke="#999"/>`);
  }
  for (let e = lo; e <= hi; e++) {
    const y = yLat(10 ** e);
    parts.push(`<line x1="${PAD.l}" y1="${y}" x2="${PAD.l + plotW}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.l - 6}" y="${y + 4}" font-size="11" text-anchor="end">${10 ** e} ms</text>`);
  }
  for (let k = 0; k <= 4; k++) {
    const v = (thrCeil / 4) * k;
    const y = yThr(v);
    parts.push(`<line x1="${PAD.l}" y1="${y}" x2="${PAD.l + plotW}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.l - 6}" y="${y + 4}" font-size="11" text-anchor="end">${Math.round(v).toLocaleString("en")}</text>`);
  }
  const tickEvery = n > 120 ? 30 : n > 40 ? 10 : 5;
  for (let i = 0; i < n; i += tickEvery) {
    parts.push(`<text x="${x(i)}" y="${thrTop + THR_H + 16}" font-size="11" text-anchor="middle">${i}s</text>`);
    parts.push(`<line x1="${x(i)}" y1="${latTop + LAT_H}" x2="${x(i)}" y2="${latTop + LAT_H + 4}" stroke="#999"/>`);
  }
  parts.push(`<text x="${PAD.l}" y="${latTop - 6}" font-size="12">latency per second (log scale)${opts.warmupS > 0 ? " — grey: warmup" : ""}</text>`);
  parts.push(`<text x="${PAD.l}" y="${thrTop - 6}" font-size="12">messages per second</text>`);
  for (const l of lat)
    parts.push(`<path d="${path(l.values, x, yLat)}" fill="none" stroke="${l.color}" stroke-width="1.6"${l.dash ? ` stroke-dasharray="${l.dash}"` : ""}/>`);
  for (const l of thr)
    parts.push(`<path d="${path(l.values, x, yThr)}" fill="none" stroke="${l.color}" stroke-width="1.6"${l.dash ? ` stroke-dasharray="${l.dash}"` : ""}/>`);
  parts.push(legend(lat, PAD.l + plotW + 12, latTop + 12));
  parts.push(legend(thr, PAD.l + plotW + 12, thrTop + 12));
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
