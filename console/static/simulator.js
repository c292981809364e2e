// Doorstep customer simulator: text the bot as a customer over the sandbox SMS channel.
// The chat is read back from the server every second (the sandbox outbox and the
// customer's texts), so a reload shows the same conversation.
"use strict";

(function () {
  const C = window.Console;
  const root = document.getElementById("simulator");
  if (!C || !root) return;
  const sandbox = root.dataset.sandbox === "yes";
  const chat = document.getElementById("sim-chat");
  const empty = document.getElementById("sim-empty");
  const phoneInput = document.getElementById("sim-phone");
  const textInput = document.getElementById("sim-text");
  const STORAGE_KEY = "doorstep.simulator.phone";
  const POLL_MS = 1000;
  let phone = startPhone();
  let shown = "";
  let pollTimer = null;

  function startPhone() {
    if (root.dataset.phoneGiven === "yes") return root.dataset.phone;
    let saved = null;
    try { saved = localStorage.getItem(STORAGE_KEY); } catch (err) { saved = null; }
    return saved || root.dataset.phone;
  }

  function usePhone(value) {
    phone = value;
    phoneInput.value = value;
    try { localStorage.setItem(STORAGE_KEY, value); } catch (err) { /* private mode */ }
    const url = new URL(location.href);
    url.searchParams.set("phone", value);
    history.replaceState(null, "", url.pathname + url.search);
    shown = "";
    C.clear(chat);
    showCase(null);
    refresh().catch(C.reportError);
  }

  function randomPhone() {
    return "+15550100" + String(100 + Math.floor(Math.random() * 900));
  }

  function query() {
    return "/console/simulator/messages?phone=" + encodeURIComponent(phone);
  }

  async function refresh() {
    const asked = phone;
    const data = await C.api("GET", query());
    if (!data || asked !== phone) return;
    render(data);
  }

  function render(data) {
    showCase(data.case);
    const signature = JSON.stringify(data.messages);
    if (signature === shown) return;
    const first = shown === "";
    shown = signature;
    const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
    C.clear(chat);
    data.messages.forEach(function (m) {
      const mine = m.from === "customer";
      chat.appendChild(C.h("li", {
        className: "msg " + (mine ? "msg-out" : "msg-in"),
        dataset: { from: m.from, id: m.id },
      },
        C.h("div", { className: "bubble" }, C.h("p", { className: "msg-text", text: m.text })),
        C.h("div", { className: "msg-meta" },
          C.h("span", { text: mine ? "customer" : "from Doorstep" }),
          C.h("time", { datetime: m.at, text: C.when(m.at) }))));
    });
    empty.hidden = data.messages.length > 0;
    if (first || atBottom) chat.scrollTop = chat.scrollHeight;
  }

  function showCase(info) {
    const box = document.getElementById("sim-case");
    if (!info) { box.hidden = true; return; }
    box.hidden = false;
    document.getElementById("sim-case-id").textContent = info.id;
    const status = document.getElementById("sim-case-status");
    status.dataset.status = info.desk_status;
    status.textContent = info.desk_status === "held" && info.held_by
      ? "held by " + info.held_by : C.words(info.desk_status === "bot" ? info.status : info.desk_status);
    document.getElementById("sim-case-link").setAttribute("href", info.url);
  }

  function poll() {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(async function () {
      if (!document.hidden) {
        try { await refresh(); } catch (err) { C.reportError(err); }
      }
      poll();
    }, POLL_MS);
  }

  async function send(text) {
    if (!sandbox || !text) return;
    const button = document.getElementById("sim-send");
    button.disabled = true;
    try {
      await C.api("POST", "/console/simulator/messages", { phone: phone, text: text });
      textInput.value = "";
      C.hideAlert();
      await refresh();
    } catch (err) {
      C.reportError(err);
    } finally {
      button.disabled = false;
      textInput.focus();
    }
  }

  document.getElementById("sim-phone-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const value = phoneInput.value.trim();
    if (value) usePhone(value);
  });

  document.getElementById("sim-new-phone").addEventListener("click", function () {
    usePhone(randomPhone());
  });

  document.getElementById("sim-compose").addEventListener("submit", function (event) {
    event.preventDefault();
    send(textInput.value.trim());
  });

  textInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      send(textInput.value.trim());
    }
  });

  document.getElementById("sim-ask-person").addEventListener("click", function () {
    send("I want to talk to a person");
  });

  document.getElementById("sim-event-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const button = document.getElementById("sim-post-event");
    button.disabled = true;
    try {
      const done = await C.api("POST", "/console/simulator/events", {
        phone: phone,
        type: document.getElementById("sim-type").value,
        name: document.getElementById("sim-name").value,
        language: document.getElementById("sim-language").value,
      });
      C.showAlert(done.case_id ? "Event posted: case " + done.case_id + " is open."
        : "Event posted: no case was opened.", "info");
      await refresh();
    } catch (err) {
      C.reportError(err);
    } finally {
      button.disabled = !sandbox;
    }
  });

  usePhone(phone);
  poll();
})();
