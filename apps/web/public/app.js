// Chat4All web client: wires the session (api.js), the socket (live.js) and the state (chat.js) to the page.
import { ApiError, createApi } from "./api.js";
import { createChat } from "./chat.js";
import { byId, setText } from "./dom.js";
import { createLive } from "./live.js";
import { createNewChatDialog } from "./new-chat.js";
import { createView, initial } from "./view.js";

const el = {
  authView: byId("auth-view"),
  chatView: byId("chat-view"),
  loginForm: byId("login-form"),
  registerForm: byId("register-form"),
  showLogin: byId("show-login"),
  showRegister: byId("show-register"),
  authError: byId("auth-error"),
  meName: byId("me-name"),
  meAvatar: byId("me-avatar"),
  conn: byId("conn-status"),
  convList: byId("conv-list"),
  convEmpty: byId("conv-empty"),
  placeholder: byId("chat-placeholder"),
  pane: byId("chat-pane"),
  title: byId("chat-title"),
  sub: byId("chat-sub"),
  dot: byId("chat-dot"),
  scroller: byId("scroller"),
  older: byId("load-older"),
  messages: byId("messages"),
  composer: byId("composer"),
  input: byId("composer-input"),
};

let leaving = false;
const api = createApi({ onSignedOut: () => showAuth(leaving ? "" : "Your session ended. Please sign in again.") });
let me = null;
let chat = null;
let live = null;
let activeId = null;
let dialog = null;

// ---- sign in / register -------------------------------------------------------------------

function showAuth(message = "") {
  live?.stop();
  live = chat = me = activeId = null;
  el.chatView.hidden = true;
  el.authView.hidden = false;
  setText(el.authError, message);
  document.title = "Chat4All";
  el.loginForm.elements.username.focus();
}

function switchAuth(register) {
  el.registerForm.hidden = !register;
  el.loginForm.hidden = register;
  el.showRegister.setAttribute("aria-pressed", String(register));
  el.showLogin.setAttribute("aria-pressed", String(!register));
  setText(el.authError, "");
  (register ? el.registerForm : el.loginForm).querySelector("input")?.focus();
}
el.showLogin.addEventListener("click", () => switchAuth(false));
el.showRegister.addEventListener("click", () => switchAuth(true));

async function submitAuth(form, action) {
  const button = form.querySelector("button[type=submit]");
  const data = Object.fromEntries(new FormData(form));
  const invalid = [...form.elements].find((i) => i.willValidate && !i.checkValidity());
  if (invalid) {
    setText(el.authError, `${invalid.closest("label")?.firstChild?.textContent?.trim() ?? "A field"}: ${invalid.validationMessage}`);
    return invalid.focus();
  }
  button.disabled = true;
  setText(el.authError, "");
  try {
    await action(data);
    form.reset();
    await startApp();
  } catch (err) {
    setText(el.authError, err instanceof ApiError ? err.message : "Cannot reach the server. Check your connection.");
  } finally {
    button.disabled = false;
  }
}
el.loginForm.addEventListener("submit", (e) => {
  e.preventDefault();
  submitAuth(el.loginForm, (d) => api.login(d.username.trim(), d.password));
});
el.registerForm.addEventListener("submit", (e) => {
  e.preventDefault();
  submitAuth(el.registerForm, (d) => api.register({ name: d.name.trim(), username: d.username.trim(), email: d.email.trim(), password: d.password }));
});
byId("logout").addEventListener("click", () => {
  leaving = true;
  api.logout();
  leaving = false;
});

// ---- the app --------------------------------------------------------------------------------

async function startApp() {
  me = await api.call("GET", "/v1/users/me");
  live = createLive({
    getToken: () => api.accessToken(),
    refreshToken: () => api.refresh(),
    positions: () => chat.positions(),
    onOpen: () => chat.onReconnected(),
    onFrame: (f) => chat.onFrame(f),
    onState: showConnection,
  });
  chat = createChat({ meId: me.user_id, api, live, isVisible, onChange: render, onUnknownConversation: refreshListSoon });
  chat.people.set(me.user_id, { name: me.name, username: me.username });
  setText(el.meName, me.name || me.username);
  setText(el.meAvatar, initial(me.name || me.username));
  el.authView.hidden = true;
  el.chatView.hidden = false;
  dialog ??= createNewChatDialog({ api: () => api, me: () => me, people: () => chat.people, onCreated: openCreated });
  await Promise.all([loadDirectory(), refreshList()]);
  live.start();
  const wanted = decodeURIComponent(location.hash.slice(1));
  openConversation(chat.convs.has(wanted) ? wanted : null);
}

async function loadDirectory() {
  try {
    for (const u of await api.call("GET", "/v1/users?limit=100")) chat.people.set(u.user_id, { name: u.name, username: u.username });
  } catch {
    // names fall back to conversation metadata
  }
}

/** GET /v1/conversations, then members and the last message of each new one (4 at a time). */
async function refreshList() {
  const list = await api.call("GET", "/v1/conversations");
  if (!chat) return;
  chat.applyList(list);
  const todo = [...chat.convs.values()].filter((c) => c.members === null);
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let c = todo.shift(); c; c = todo.shift()) {
        await chat.loadDetails(c).catch(() => {});
        if (!c.historyLoaded && c.messages.size === 0 && c.lastSeq > 0) await chat.loadHistory(c, { limit: 1 }).catch(() => {});
      }
    }),
  );
}
let listTimer = null;
function refreshListSoon() {
  clearTimeout(listTimer);
  listTimer = setTimeout(() => refreshList().catch(() => {}), 300);
}

async function openCreated(id) {
  await refreshList();
  openConversation(id);
}

function isVisible(id) {
  return id === activeId && document.visibilityState === "visible";
}

async function openConversation(id) {
  activeId = id && chat.convs.has(id) ? id : null;
  history.replaceState(null, "", activeId ? `#${encodeURIComponent(activeId)}` : location.pathname);
  el.chatView.classList.toggle("chat-open", activeId !== null);
  render();
  if (!activeId) return;
  const c = chat.convs.get(activeId);
  el.input.focus();
  if (!c.historyLoaded) {
    try {
      await chat.loadHistory(c);
      scrollToEnd();
    } catch (err) {
      setText(el.sub, `Could not load messages: ${err.message}`);
    }
  } else chat.markRead(c);
}
byId("back").addEventListener("click", () => openConversation(null));

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible" || !chat) return;
  live?.reconnectNow();
  const c = activeId && chat.convs.get(activeId);
  if (c) chat.markRead(c);
});

function showConnection(state, retryInMs) {
  const text = {
    online: "Connected",
    connecting: "Connecting…",
    waiting: `Reconnecting in ${Math.ceil((retryInMs ?? 0) / 1000)} s…`,
    offline: "Offline",
    "signed-out": "Signed out",
  }[state];
  el.conn.className = `conn ${state}`;
  setText(el.conn, text);
  if (state === "signed-out") api.logout();
}

// ---- rendering ------------------------------------------------------------------------------

const view = createView({
  el,
  chat: () => chat,
  me: () => me,
  activeId: () => activeId,
  open: (id) => openConversation(id),
  openFile: (key) => openFile(key),
});

function render() {
  if (!chat) return;
  const unread = view.render();
  document.title = unread ? `(${unread}) Chat4All` : "Chat4All";
}

const scrollToEnd = () => view.scrollToEnd();

async function openFile(fileKey) {
  try {
    const { url } = await api.call("GET", `/v1/files/view/${fileKey.split("/").map(encodeURIComponent).join("/")}`);
    window.open(url, "_blank", "noopener");
  } catch (err) {
    alert(`Could not open the file: ${err.message}`);
  }
}

el.older.addEventListener("click", async () => {
  const c = chat.convs.get(activeId);
  if (!c || c.loadingOlder) return;
  c.loadingOlder = true;
  el.older.disabled = true;
  const before = el.scroller.scrollHeight - el.scroller.scrollTop;
  try {
    await chat.loadHistory(c, { older: true });
    render();
    el.scroller.scrollTop = el.scroller.scrollHeight - before; // keep the same messages in view
  } finally {
    c.loadingOlder = false;
    el.older.disabled = false;
  }
});

// ---- composing ------------------------------------------------------------------------------

el.composer.addEventListener("submit", (e) => {
  e.preventDefault();
  const c = activeId && chat.convs.get(activeId);
  const text = el.input.value.trim();
  if (!c || !text) return;
  el.input.value = "";
  autosize();
  chat.sendText(c, text);
  scrollToEnd();
});
el.input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    el.composer.requestSubmit();
  }
});
el.input.addEventListener("input", () => {
  autosize();
  if (activeId && el.input.value.trim()) live?.typing(activeId);
});
function autosize() {
  el.input.style.height = "auto";
  el.input.style.height = `${Math.min(el.input.scrollHeight + 2, 144)}px`;
}

// ---- boot -----------------------------------------------------------------------------------

(async () => {
  try {
    if (await api.resume()) return await startApp();
  } catch {
    // fall through to the sign-in form
  }
  showAuth();
})();
