// The inbox: tabs, type filter and search over GET /api/conversations, kept live by SSE.
"use strict";

(function () {
  const C = window.Console;
  const h = C.h;
  // Each tab is a set of query parameters for GET /api/conversations.
  const TABS = {
    escalated: {}, // waiting and held (the API's default)
    mine: { view: "mine" },
    unassigned: { view: "unassigned" },
    overdue: { view: "overdue" },
    bot: { status: "bot" },
    closed: { status: "closed" },
  };
  const list = document.getElementById("inbox");
  const status = document.getElementById("inbox-status");
  const search = document.getElementById("search");
  const typeFilter = document.getElementById("type-filter");
  const tabs = Array.from(document.querySelectorAll('[role="tab"][data-tab]'));

  const initial = new URLSearchParams(location.search);
  let tab = TABS[initial.get("tab")] ? initial.get("tab") : "escalated";
  search.value = initial.get("q") || "";
  typeFilter.value = initial.get("type") || "";
  let last = null;

  function query() {
    const params = new URLSearchParams(TABS[tab]);
    const q = search.value.trim();
    if (q) params.set("q", q);
    if (typeFilter.value) params.set("type", typeFilter.value);
    return params;
  }

  function remember() {
    const params = new URLSearchParams();
    if (tab !== "escalated") params.set("tab", tab);
    if (search.value.trim()) params.set("q", search.value.trim());
    if (typeFilter.value) params.set("type", typeFilter.value);
    const qs = params.toString();
    history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
  }

  async function load() {
    const params = query();
    const data = await C.api("GET", "/api/conversations?" + params.toString());
    if (params.toString() !== query().toString()) return; // the filters changed meanwhile
    last = data;
    render();
  }

  const refresh = C.coalesce(load, 150);

  function showFigures(queue) {
    const q = queue || {};
    C.setText("q-waiting", q.waiting);
    C.setText("q-held", q.held);
    C.setText("q-overdue", q.overdue);
    C.setText("q-agents", q.agents_online);
    document.getElementById("queue").dataset.overdue = q.overdue > 0 ? "yes" : "no";
  }

  function waiting(c, now) {
    const esc = c.escalation;
    if (c.status === "escalated" && esc && esc.escalated_at) return "waiting " + C.since(esc.escalated_at, now);
    if (c.status === "held" && esc && esc.claimed_at) return "held " + C.since(esc.claimed_at, now);
    const ago = C.since(c.updated_at, now);
    return ago === "just now" ? "updated just now" : "updated " + ago + " ago";
  }

  function preview(message) {
    if (!message || !message.text) return null;
    const who = message.direction === "in" ? "Customer: " : "Sent: ";
    return h("p", { className: "row-preview" }, who + message.text);
  }

  function row(c, now) {
    const esc = c.escalation || {};
    const overdue = Boolean(esc.overdue);
    const assignee = esc.assignee_name || esc.assignee;
    return h("li", {
      className: "conversation-row" + (overdue ? " is-overdue" : ""),
      dataset: { id: c.id, status: c.status || "", overdue: overdue ? "yes" : "no" },
    }, h("a", { className: "row-link", href: "/console/c/" + encodeURIComponent(c.id) },
      h("div", { className: "row-top" },
        h("span", { className: "row-name" }, c.recipient_name || c.phone || "Unknown customer"),
        overdue ? h("span", { className: "badge badge-overdue" }, "Overdue") : null,
        h("span", { className: "badge badge-status", dataset: { status: c.status || "" } },
          c.status || ""),
        h("span", { className: "row-wait" }, waiting(c, now))),
      h("div", { className: "row-meta" },
        h("span", { className: "row-tracking" }, c.tracking_number || ""),
        h("span", { className: "row-type" }, C.typeLabel(c.type)),
        c.reason ? h("span", { className: "row-reason" }, C.words(c.reason)) : null),
      esc.reason ? h("div", { className: "row-escalation" }, "Escalated: " + C.words(esc.reason)) : null,
      h("div", { className: "row-assignee" }, assignee ? "With " + assignee : (c.escalation ? "Unassigned" : "")),
      preview(c.last_message)));
  }

  function render() {
    if (!last) return;
    showFigures(last.queue);
    const now = Date.now();
    const items = last.conversations || [];
    C.clear(list);
    items.forEach(function (c) { list.appendChild(row(c, now)); });
    status.textContent = items.length ? items.length + (items.length === 1 ? " conversation" : " conversations")
      : "Nothing here right now.";
  }

  function selectTab(name) {
    tab = name;
    tabs.forEach(function (b) {
      const on = b.dataset.tab === name;
      b.setAttribute("aria-selected", on ? "true" : "false");
      b.tabIndex = on ? 0 : -1;
    });
    remember();
  }

  tabs.forEach(function (b) {
    b.addEventListener("click", function () {
      selectTab(b.dataset.tab);
      C.hideAlert();
      refresh();
    });
    b.addEventListener("keydown", function (event) {
      const i = tabs.indexOf(b);
      const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      next.focus();
      next.click();
    });
  });

  let typing = null;
  search.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(function () { remember(); refresh(); }, 250);
  });
  typeFilter.addEventListener("change", function () { remember(); refresh(); });
  document.getElementById("filters").addEventListener("submit", function (event) {
    event.preventDefault();
    remember();
    refresh();
  });

  selectTab(tab);
  refresh();
  C.live(function () { refresh(); }, refresh);
  setInterval(render, 30000); // waiting times move on between changes
})();
