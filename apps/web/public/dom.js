// Tiny DOM helpers. User content only ever goes through textContent or attribute setters.

/** The element with this id (throws when the page lacks it). */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/**
 * Creates an element. `props`: `class`, `text` (textContent), `on<event>` handlers, `dataset`,
 * boolean/string attributes (`false`/`null`/`undefined` skip). Children: nodes or strings (text nodes).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

/**
 * Makes `parent`'s children match `items` in order, reusing the element of each key
 * (focus, scroll and screen-reader state survive): `create(item)` makes one, `update(el, item)` refreshes it.
 */
export function reconcile(parent, items, key, create, update) {
  const byKey = new Map();
  for (const el of parent.children) if (el.dataset.key) byKey.set(el.dataset.key, el);
  let prev = null;
  for (const item of items) {
    const k = String(key(item));
    let el = byKey.get(k);
    if (el) byKey.delete(k);
    else {
      el = create(item);
      el.dataset.key = k;
    }
    update(el, item);
    const want = prev ? prev.nextElementSibling : parent.firstElementChild;
    if (want !== el) parent.insertBefore(el, want);
    prev = el;
  }
  for (const el of byKey.values()) el.remove();
}

/** Sets an element's text only when it changed (no needless live-region announcements). */
export function setText(el, text) {
  const t = String(text ?? "");
  if (el.textContent !== t) el.textContent = t;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dayFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });

/** "14:05" today, "3 Mar" before; the full date for a tooltip. */
export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return { short: "", full: "" };
  const today = new Date().toDateString() === d.toDateString();
  return { short: today ? timeFmt.format(d) : dayFmt.format(d), clock: timeFmt.format(d), full: fullFmt.format(d) };
}
