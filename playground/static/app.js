// Frontdesk playground: draws /api/state, sends what the visitor does, listens on /ws.
"use strict";

const BOOT = window.PLAYGROUND;
const W = BOOT.words;
const STAFF_CHAT = BOOT.staffChat;
const GENERAL = 0;
const view = {
  client: Number(sessionStorage.getItem("client")) || null,
  topic: sessionStorage.getItem("topic") === null ? GENERAL : Number(sessionStorage.getItem("topic")),
  postAs: Number(sessionStorage.getItem("postAs")) || null,
  editing: { client: null, staff: null },
  state: null,
};
const $ = (id) => document.getElementById(id);
const COLORS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function avatar(node, name, id) {
  node.textContent = (name || "?").trim().charAt(0).toUpperCase();
  node.style.background = COLORS[Math.abs(id) % COLORS.length];
}

function hex(color) {
  return "#" + Number(color).toString(16).padStart(6, "0");
}

function clockText(iso) {
  const when = new Date(iso);
  return when.toLocaleString(BOOT.lang, { weekday: "short", day: "numeric", month: "short",
    hour: "2-digit", minute: "2-digit" });
}

function aheadText(seconds) {
  if (!seconds) return "";
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const parts = [];
  if (days) parts.push(days + (BOOT.lang === "ru" ? " д" : " d"));
  if (hours) parts.push(hours + (BOOT.lang === "ru" ? " ч" : " h"));
  if (minutes) parts.push(minutes + (BOOT.lang === "ru" ? " мин" : " min"));
  return "+" + parts.join(" ") + " " + W.ahead;
}

function timeText(unix) {
  return new Date(unix * 1000).toLocaleTimeString(BOOT.lang, { hour: "2-digit", minute: "2-digit" });
}

function sizeText(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1024 / 1024).toFixed(1) + " MB";
}

// -- talking to the server --------------------------------------------------------------

async function post(path, body) {
  const options = { method: "POST" };
  if (body instanceof FormData) options.body = body;
  else {
    options.body = JSON.stringify(body);
    options.headers = { "Content-Type": "application/json" };
  }
  const response = await fetch(path, options);
  let answer = {};
  try { answer = await response.json(); } catch (error) { answer = { ok: false, error: "" }; }
  return answer;
}

let loading = false;
let again = false;
async function refresh() {
  if (loading) { again = true; return; }
  loading = true;
  try {
    do {
      again = false;
      const query = new URLSearchParams({ lang: BOOT.lang, topic: String(view.topic) });
      if (view.client) query.set("client", String(view.client));
      const response = await fetch("/api/state?" + query);
      if (response.ok) draw(await response.json());
    } while (again);
  } finally {
    loading = false;
  }
}

function listen() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + "/ws");
  socket.onopen = () => { $("offline").hidden = true; refresh(); };
  socket.onmessage = () => refresh();
  socket.onclose = () => {
    $("offline").hidden = false;
    setTimeout(listen, 1000);
  };
}

// -- drawing ----------------------------------------------------------------------------

function draw(state) {
  view.state = state;
  $("clock-now").textContent = clockText(state.clock);
  $("clock-ahead").textContent = aheadText(state.ahead);
  if (!view.client || !state.clients.some((client) => client.id === view.client)) {
    if (state.clients.length) { view.client = state.clients[0].id; again = true; }
  }
  if (!state.people.some((person) => person.id === view.postAs) && state.people.length) {
    view.postAs = state.people[0].id;
  }
  drawClients(state);
  drawClientChat(state);
  drawTopics(state);
  drawPeople(state);
  drawTopic(state);
}

function drawClients(state) {
  const list = $("client-list");
  list.replaceChildren(...state.clients.map((client) => {
    const item = el("li", client.id === view.client ? "active" : "");
    item.dataset.client = client.id;
    const face = el("div", "avatar");
    avatar(face, client.name, client.id);
    const text = el("div", "item-text");
    const name = el("div", "item-name", client.name);
    name.append(el("span", "badge", client.language.toUpperCase()));
    text.append(name, el("div", "snippet", client.blocked ? "⛔ " + W.blocked : client.last));
    item.append(face, text);
    item.onclick = () => { view.client = client.id; sessionStorage.setItem("client", client.id);
      stopEditing("client"); refresh(); };
    return item;
  }));
}

function drawClientChat(state) {
  const client = state.clients.find((each) => each.id === view.client);
  $("client-title").textContent = client ? client.name : "";
  $("client-sub").textContent = client ? (client.blocked ? W.blocked : "") : W.pick_client;
  if (client) avatar($("client-avatar"), client.name, client.id);
  $("block").hidden = !client;
  $("block").textContent = client && client.blocked ? W.unblock : W.block;
  const messages = state.client && state.client.id === view.client ? state.client.messages : [];
  $("client-start").hidden = !client || messages.length > 0 || client.blocked;
  drawMessages($("client-messages"), messages, {
    chat: view.client, side: "client", mine: (message) => message.sender_id === view.client,
    names: false, empty: client ? W.no_messages : W.pick_client,
  });
}

function drawTopics(state) {
  const list = $("topic-list");
  list.replaceChildren(...state.topics.map((topic) => {
    const item = el("li", topic.thread_id === view.topic ? "active" : "");
    item.dataset.topic = topic.thread_id;
    const icon = el("div", "avatar topic-icon", topic.thread_id === GENERAL ? "#" : "");
    icon.style.background = hex(topic.color);
    if (topic.thread_id !== GENERAL) icon.textContent = [...topic.name][0] || "";
    const text = el("div", "item-text");
    const name = el("div", "item-name", topic.name);
    if (topic.closed) name.append(el("span", "badge", "🔒 " + W.closed));
    text.append(name, el("div", "snippet", topic.last));
    item.append(icon, text);
    item.onclick = () => { view.topic = topic.thread_id; sessionStorage.setItem("topic", view.topic);
      stopEditing("staff"); refresh(); };
    return item;
  }));
  if (!state.topics.some((topic) => topic.thread_id === view.topic)) view.topic = GENERAL;
}

function drawPeople(state) {
  const select = $("post-as");
  const wanted = state.people.map((person) => `${person.id}:${person.name}:${person.role}`).join("|");
  if (select.dataset.people !== wanted) {
    select.replaceChildren(...state.people.map((person) => {
      const option = el("option", "", `${person.name} — ${person.role}`);
      option.value = person.id;
      return option;
    }));
    select.dataset.people = wanted;
  }
  select.value = String(view.postAs);
}

function drawTopic(state) {
  const topic = state.topics.find((each) => each.thread_id === view.topic);
  $("topic-title").textContent = topic ? topic.name : W.pick_topic;
  const icon = $("topic-avatar");
  icon.textContent = topic && topic.thread_id !== GENERAL ? [...topic.name][0] || "" : "#";
  icon.style.background = hex(topic ? topic.color : 0x8e9ead);
  const messages = state.topic && state.topic.thread_id === view.topic ? state.topic.messages : [];
  drawMessages($("topic-messages"), messages, {
    chat: STAFF_CHAT, side: "staff", mine: (message) => message.sender_id === view.postAs,
    names: true, empty: W.no_messages,
  });
}

function drawMessages(box, messages, how) {
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const before = box.dataset.count;
  if (!messages.length) {
    box.replaceChildren(el("div", "empty", how.empty));
  } else {
    box.replaceChildren(...messages.map((message) => messageNode(message, how)));
  }
  box.dataset.count = String(messages.length);
  if (atBottom || before !== box.dataset.count) box.scrollTop = box.scrollHeight;
}

function messageNode(message, how) {
  if (message.service) return el("div", "service", message.service);
  const mine = how.mine(message);
  const row = el("div", "msg " + (mine ? "out" : "in"));
  row.dataset.id = message.id;
  const bubble = el("div", "bubble");
  if (how.names && !mine) bubble.append(el("div", "sender" + (message.is_bot ? " bot" : ""), message.sender));
  if (message.reply_to) bubble.append(el("div", "reply", message.reply_to));
  if (message.photo) {
    const image = el("img", "photo");
    image.src = "/files/" + encodeURIComponent(message.photo);
    image.alt = W.photo;
    image.onload = () => { const box = row.parentElement; if (box) box.scrollTop = box.scrollHeight; };
    bubble.append(image);
  }
  if (message.document) {
    const link = el("a", "doc");
    link.href = "/files/" + encodeURIComponent(message.document.file_id);
    link.download = message.document.name;
    const info = el("div");
    info.append(el("div", "doc-name", message.document.name),
      el("div", "doc-size", sizeText(message.document.size)));
    link.append(el("div", "doc-icon", "⬇"), info);
    bubble.append(link);
  }
  if (message.media) bubble.append(el("div", "media-kind", message.media));
  const meta = el("span", "meta", (message.edited ? W.edited + " " : "") + timeText(message.date));
  if (message.html) {
    const text = el("div", "text");
    text.innerHTML = message.html;  // made safe on the server (render.py)
    for (const spoiler of text.querySelectorAll(".spoiler")) {
      spoiler.onclick = () => spoiler.classList.add("shown");
    }
    text.append(meta);
    bubble.append(text);
  } else {
    bubble.append(meta);
  }
  if (mine && message.html !== "") {
    const pencil = el("button", "edit-button", "✎ " + W.edit);
    pencil.type = "button";
    pencil.onclick = () => startEditing(how.side, how.chat, message);
    meta.append(pencil);
  }
  if (message.reactions.length) {
    const reactions = el("div", "reactions");
    reactions.append(...message.reactions.map((emoji) => el("span", "reaction", emoji)));
    bubble.append(reactions);
  }
  row.append(bubble);
  if (message.buttons.length) row.append(keyboard(message, how));
  return row;
}

function keyboard(message, how) {
  const board = el("div", "keyboard");
  for (const buttons of message.buttons) {
    const line = el("div", "keyboard-row");
    for (const button of buttons) {
      if (button.url) {
        const link = el("a", "", button.text + " ↗");
        link.href = button.url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        line.append(link);
        continue;
      }
      const press = el("button", "", button.text);
      press.type = "button";
      press.onclick = async () => {
        press.disabled = true;
        const person = how.side === "client" ? view.client : view.postAs;
        const answer = await post("/api/press", { as: person, chat: how.chat, message: message.id,
          data: button.data || "" });
        press.disabled = false;
        if (!answer.ok) showError(how.side, answer.error);
        else if (answer.answer && answer.answer.text) toast(answer.answer.text, answer.answer.show_alert);
      };
      line.append(press);
    }
    board.append(line);
  }
  return board;
}

// -- acting -----------------------------------------------------------------------------

function toast(text, alert) {
  const box = $("toast");
  box.textContent = text;
  box.className = alert ? "alert" : "";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, alert ? 5000 : 2500);
}

function showError(side, text) {
  $(side + "-error").textContent = text || "";
}

function startEditing(side, chat, message) {
  const composer = $(side + "-composer");
  const holder = document.createElement("div");
  holder.innerHTML = message.html;
  composer.text.value = holder.textContent;
  view.editing[side] = { chat, id: message.id };
  $(side + "-editing").hidden = false;
  composer.text.focus();
}

function stopEditing(side) {
  view.editing[side] = null;
  $(side + "-editing").hidden = true;
  showError(side, "");
}

async function submit(side) {
  const composer = $(side + "-composer");
  const text = composer.text.value;
  const file = composer.file.files[0];
  const person = side === "client" ? view.client : view.postAs;
  if (!person) return;
  const chat = side === "client" ? view.client : STAFF_CHAT;
  let answer;
  const editing = view.editing[side];
  if (editing) {
    answer = await post("/api/edit", { as: person, chat: editing.chat, message: editing.id, text });
  } else {
    if (!text.trim() && !file) return;
    const form = new FormData();
    form.set("as", String(person));
    form.set("chat", String(chat));
    if (side === "staff") form.set("thread", String(view.topic));
    form.set("text", text);
    if (file) form.set("file", file, file.name);
    answer = await post("/api/send", form);
  }
  if (!answer.ok) { showError(side, answer.error); return; }
  composer.reset();
  composer.querySelector(".attach").classList.remove("has-file");
  stopEditing(side);
  autosize(composer.text);
}

function autosize(area) {
  area.style.height = "auto";
  area.style.height = Math.min(area.scrollHeight + 2, 160) + "px";
}

function wireComposer(side) {
  const composer = $(side + "-composer");
  composer.onsubmit = (event) => { event.preventDefault(); submit(side); };
  composer.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit(side);
    }
  });
  composer.text.addEventListener("input", () => { autosize(composer.text); showError(side, ""); });
  composer.file.addEventListener("change", () => {
    composer.querySelector(".attach").classList.toggle("has-file", composer.file.files.length > 0);
  });
  document.querySelector(`#${side}-editing .cancel-edit`).onclick = () => {
    stopEditing(side);
    composer.reset();
  };
}

function wire() {
  wireComposer("client");
  wireComposer("staff");
  $("start-button").onclick = async () => {
    const form = new FormData();
    form.set("as", String(view.client));
    form.set("chat", String(view.client));
    form.set("text", "/start");
    const answer = await post("/api/send", form);
    if (!answer.ok) showError("client", answer.error);
  };
  $("block").onclick = async () => {
    const client = view.state.clients.find((each) => each.id === view.client);
    if (client) await post("/api/block", { client: client.id, blocked: !client.blocked });
  };
  $("add-client").onsubmit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const answer = await post("/api/clients", { name: form.name.value, language: form.language.value });
    if (answer.ok) {
      view.client = answer.id;
      sessionStorage.setItem("client", answer.id);
      form.reset();
      refresh();
    }
  };
  $("add-agent").onsubmit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const answer = await post("/api/agents", { name: form.name.value });
    if (answer.ok) {
      view.postAs = answer.id;
      sessionStorage.setItem("postAs", answer.id);
      form.reset();
      refresh();
    }
  };
  $("post-as").onchange = (event) => {
    view.postAs = Number(event.target.value);
    sessionStorage.setItem("postAs", view.postAs);
    stopEditing("staff");
    refresh();
  };
  for (const button of document.querySelectorAll(".jump")) {
    button.onclick = () => post("/api/clock", { minutes: Number(button.dataset.jump) });
  }
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.onclick = () => {
      document.body.className = "show-" + tab.dataset.pane;
      for (const other of document.querySelectorAll(".tabs button")) {
        other.classList.toggle("active", other === tab);
      }
    };
  }
  const guide = $("guide");
  const remembered = localStorage.getItem("guide");
  if (remembered === "closed" || (remembered === null && window.innerWidth < 860)) guide.open = false;
  guide.addEventListener("toggle", () => localStorage.setItem("guide", guide.open ? "open" : "closed"));
}

wire();
listen();
