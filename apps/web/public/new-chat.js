// The "New chat" dialog: search the directory (GET /v1/users?q=), start a private chat with one
// person, or tick several and create a group (POST /v1/conversations).
import { ApiError } from "./api.js";
import { byId, h, reconcile, setText } from "./dom.js";

/** `deps`: getters `api()`, `me()`, `people()` (the shared name cache), and `onCreated(conversationId)`. */
export function createNewChatDialog(deps) {
  const dialog = byId("new-chat-dialog");
  const search = byId("user-search");
  const status = byId("user-search-status");
  const results = byId("user-results");
  const groupName = byId("group-name");
  const createGroup = byId("create-group");
  const selectedText = byId("group-selected");
  const error = byId("dialog-error");
  const selected = new Map(); // user_id → user
  let timer = null;
  let seq = 0;

  async function find() {
    const mine = ++seq;
    const q = search.value.trim();
    setText(status, "Searching…");
    try {
      const params = new URLSearchParams({ limit: "20" });
      if (q) params.set("q", q);
      const users = (await deps.api().call("GET", `/v1/users?${params}`)).filter((u) => u.user_id !== deps.me().user_id);
      if (mine !== seq) return;
      for (const u of users) deps.people().set(u.user_id, { name: u.name, username: u.username });
      setText(status, users.length ? `${users.length} ${users.length === 1 ? "person" : "people"}` : "Nobody found");
      renderResults(users);
    } catch (err) {
      if (mine === seq) setText(status, `Search failed: ${err.message}`);
    }
  }

  function renderResults(users) {
    reconcile(
      results,
      users,
      (u) => u.user_id,
      (u) => {
        const box = h("input", { type: "checkbox", onchange: () => toggle(u, box.checked) });
        return h(
          "li",
          { class: "user" },
          h("span", { class: "avatar", "aria-hidden": "true" }),
          h("span", { class: "user-name" }, h("strong", {}), h("span", {})),
          h("label", {}, box, "Group"),
          h("button", { type: "button", class: "primary", onclick: () => create("private", [u.user_id]) }, "Message"),
        );
      },
      (li, u) => {
        setText(li.querySelector(".avatar"), (u.name || u.username || "?").trim()[0]?.toUpperCase() ?? "?");
        setText(li.querySelector("strong"), u.name || u.username);
        setText(li.querySelector(".user-name span"), `@${u.username}`);
        const box = li.querySelector("input");
        box.checked = selected.has(u.user_id);
        box.setAttribute("aria-label", `Add ${u.name || u.username} to the group`);
        li.querySelector("button").setAttribute("aria-label", `Message ${u.name || u.username}`);
      },
    );
  }

  function toggle(u, on) {
    if (on) selected.set(u.user_id, u);
    else selected.delete(u.user_id);
    const names = [...selected.values()].map((x) => x.name || x.username);
    setText(selectedText, names.length ? `With ${names.join(", ")}` : "Tick people above to add them to a group.");
    createGroup.disabled = names.length === 0;
  }

  async function create(type, members) {
    setText(error, "");
    const me = deps.me();
    const names = { [me.user_id]: me.name || me.username };
    for (const id of members.slice(0, 50)) {
      const p = deps.people().get(id);
      if (p) names[id] = p.name || p.username;
    }
    const metadata = { member_names: names };
    const title = groupName.value.trim();
    if (type === "group" && title) metadata.title = title;
    try {
      const r = await deps.api().call("POST", "/v1/conversations", { body: { type, members, metadata } });
      dialog.close();
      await deps.onCreated(r.conversation_id);
    } catch (err) {
      setText(error, err instanceof ApiError ? err.message : "Cannot reach the server.");
    }
  }

  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(find, 250);
  });
  createGroup.addEventListener("click", () => create("group", [...selected.keys()]));
  byId("close-dialog").addEventListener("click", () => dialog.close());
  byId("new-chat").addEventListener("click", () => {
    selected.clear();
    toggle({}, false);
    search.value = "";
    groupName.value = "";
    setText(error, "");
    results.replaceChildren();
    dialog.showModal();
    search.focus();
    find();
  });
  return { dialog };
}
