// Rendering of the conversation list and the open conversation. Keyed updates keep focus, scroll
// position and screen-reader state; user content goes through textContent only.
import { formatTime, h, reconcile, setText } from "./dom.js";

const TICKS = { PENDING: ["…", "Sending"], SENT: ["✓", "Sent"], DELIVERED: ["✓✓", "Delivered"], READ: ["✓✓", "Read"], FAILED: ["! Not sent", "Not sent"] };
const PRESENCE_LABEL = { online: "Online", offline: "Offline" };

/** First letter for an avatar. */
export const initial = (s) => (String(s || "?").trim()[0] ?? "?").toUpperCase();

/**
 * `deps`: `el` (page elements), getters `chat()`, `me()`, `activeId()`, and actions
 * `open(conversationId)`, `openFile(fileKey)`.
 */
export function createView(deps) {
  const { el } = deps;
  let renderedConv = null;

  function nameOf(uid) {
    if (uid === deps.me().user_id) return "You";
    const p = deps.chat().people.get(uid);
    return p?.name || p?.username || "Unknown user";
  }

  function otherOf(c) {
    const ids = c.members ?? Object.keys(c.metadata?.member_names ?? {});
    return ids.find((u) => u !== deps.me().user_id);
  }

  function titleOf(c) {
    if (c.type === "group") {
      if (typeof c.metadata?.title === "string" && c.metadata.title) return c.metadata.title;
      const names = (c.members ?? []).filter((u) => u !== deps.me().user_id).map(nameOf).slice(0, 3);
      return names.length ? names.join(", ") : "Group";
    }
    const other = otherOf(c);
    return other ? nameOf(other) : "Conversation";
  }

  /** "online" | "offline" for a private chat once a PRESENCE or TYPING told us; "none" otherwise. */
  function presenceOf(c) {
    if (c.type === "group") return "none";
    const online = deps.chat().presence.get(otherOf(c));
    return online === undefined ? "none" : online ? "online" : "offline";
  }

  function setDot(dot, state) {
    dot.className = `dot ${state}`;
    const label = PRESENCE_LABEL[state];
    dot.hidden = !label;
    if (label) {
      dot.setAttribute("aria-label", label);
      dot.title = label;
    }
  }

  function typingText(c) {
    const who = deps.chat().typers(c).map(nameOf);
    if (who.length === 0) return "";
    return c.type === "group" ? `${who.join(", ")} ${who.length > 1 ? "are" : "is"} typing…` : "typing…";
  }

  const lastActivity = (c) => deps.chat().last(c)?.created_at ?? c.createdAt ?? "";

  function renderList() {
    const chat = deps.chat();
    const active = deps.activeId();
    const list = [...chat.convs.values()].filter((c) => c.listed).sort((a, b) => lastActivity(b).localeCompare(lastActivity(a)));
    el.convEmpty.hidden = list.length > 0;
    reconcile(
      el.convList,
      list,
      (c) => c.id,
      (c) =>
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "conv", onclick: () => deps.open(c.id) },
            h("span", { class: "conv-avatar" }, h("span", { class: "avatar", "aria-hidden": "true" }), h("span", { class: "dot", role: "img" })),
            h("span", { class: "conv-text" }, h("span", { class: "conv-title" }), h("span", { class: "conv-preview" })),
            h("span", { class: "conv-meta" }, h("span", { class: "conv-time" }), h("span", { class: "badge" })),
          ),
        ),
      (li, c) => {
        const button = li.firstElementChild;
        const title = titleOf(c);
        const unread = c.id === active ? 0 : chat.unread(c);
        button.setAttribute("aria-current", String(c.id === active));
        setText(button.querySelector(".avatar"), c.type === "group" ? "#" : initial(title));
        setDot(button.querySelector(".dot"), presenceOf(c));
        setText(button.querySelector(".conv-title"), title);
        const typing = typingText(c);
        const last = chat.last(c);
        const preview = button.querySelector(".conv-preview");
        preview.classList.toggle("typing", Boolean(typing));
        const body = last ? (last.attachments?.original_name ? `File: ${last.attachments.original_name}` : last.content) : "No messages yet";
        const prefixed = last && (c.type === "group" || last.sender_id === deps.me().user_id);
        setText(preview, typing || (prefixed ? `${nameOf(last.sender_id)}: ${body}` : body));
        setText(button.querySelector(".conv-time"), last ? formatTime(last.created_at).short : "");
        const badge = button.querySelector(".badge");
        badge.hidden = unread === 0;
        setText(badge, unread > 99 ? "99+" : unread);
        button.setAttribute("aria-label", `${title}${unread ? `, ${unread} unread` : ""}${typing ? `, ${typing}` : ""}`);
      },
    );
    return list.reduce((n, c) => n + (c.id === active ? 0 : chat.unread(c)), 0);
  }

  function renderConversation() {
    const chat = deps.chat();
    const c = deps.activeId() ? chat.convs.get(deps.activeId()) : null;
    el.placeholder.hidden = Boolean(c);
    el.pane.hidden = !c;
    if (!c) {
      renderedConv = null;
      el.messages.replaceChildren();
      return;
    }
    const switched = renderedConv !== c.id;
    renderedConv = c.id;
    setText(el.title, titleOf(c));
    const typing = typingText(c);
    const state = presenceOf(c);
    setDot(el.dot, state);
    el.sub.classList.toggle("typing", Boolean(typing));
    const members = c.members?.length ?? 0;
    setText(el.sub, typing || (c.type === "group" ? `${members} members` : state === "none" ? "" : state));
    el.older.hidden = !chat.hasOlder(c);
    const nearEnd = el.scroller.scrollHeight - el.scroller.scrollTop - el.scroller.clientHeight < 60;
    const count = el.messages.childElementCount;
    reconcile(el.messages, chat.ordered(c), (m) => m.message_id, createMessage, (li, m) => updateMessage(li, m, c));
    const grewWithMine = el.messages.lastElementChild?.dataset.mine === "1" && el.messages.childElementCount > count;
    if (switched || nearEnd || grewWithMine) scrollToEnd();
  }

  function scrollToEnd() {
    el.scroller.scrollTop = el.scroller.scrollHeight;
  }

  function createMessage(m) {
    const mine = m.sender_id === deps.me().user_id;
    const li = h("li", { class: `msg ${mine ? "mine" : "theirs"}`, dataset: { mine: mine ? "1" : "0" } });
    const bubble = h("div", { class: "bubble" });
    if (!mine) bubble.append(h("span", { class: "sender" }));
    bubble.append(h("p", { class: "text" }));
    if (m.attachments?.file_key) bubble.append(h("button", { type: "button", class: "ghost attachment", onclick: () => deps.openFile(m.attachments.file_key) }));
    bubble.append(h("div", { class: "meta" }, h("time", {}), mine ? h("span", { class: "tick", role: "img" }) : null));
    li.append(bubble);
    return li;
  }

  function updateMessage(li, m, c) {
    const sender = li.querySelector(".sender");
    if (sender) {
      sender.hidden = c.type !== "group";
      setText(sender, nameOf(m.sender_id));
    }
    setText(li.querySelector(".text"), m.content);
    const file = li.querySelector(".attachment");
    if (file) setText(file, `Open file: ${m.attachments.original_name ?? "attachment"}`);
    const t = formatTime(m.created_at);
    const time = li.querySelector("time");
    setText(time, t.clock ?? "");
    time.dateTime = m.created_at;
    time.title = t.full;
    const tick = li.querySelector(".tick");
    if (!tick) return;
    const status = deps.chat().statusOf(c, m);
    const [glyph, label] = TICKS[status];
    tick.className = `tick ${status}`;
    setText(tick, glyph);
    const full = m.failed && m.error ? `${label}: ${m.error}` : label;
    tick.setAttribute("aria-label", full);
    tick.title = full;
    const retry = li.querySelector(".retry");
    if (m.failed && !retry) li.querySelector(".meta").append(h("button", { type: "button", class: "retry", onclick: () => deps.chat().deliver(m), text: "Retry" }));
    else if (!m.failed && retry) retry.remove();
  }

  return {
    /** Renders everything; returns the unread count outside the open conversation. */
    render() {
      const unread = renderList();
      renderConversation();
      return unread;
    },
    scrollToEnd,
  };
}
