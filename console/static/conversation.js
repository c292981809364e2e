// One conversation: GET /api/conversations/<id>, the staff actions, live re-renders.
"use strict";

(function () {
  const C = window.Console;
  const h = C.h;
  const root = document.getElementById("conversation");
  const caseId = root.dataset.caseId;
  const base = "/api/conversations/" + encodeURIComponent(caseId);
  const $ = function (id) { return document.getElementById(id); };
  const buttons = {
    claim: $("claim"), release: $("release"), handback: $("handback"), resolve: $("resolve"),
    send: $("send-reply"), note: $("add-note"), confirm: $("confirm-resolve"),
  };
  const replyText = $("reply-text");
  const noteText = $("note-text");
  const resolveForm = $("resolve-form");
  let current = null;
  let busy = false;

  const AUTHORS = { customer: "Customer", bot: "Bot", system: "System", staff: "Staff" };

  // -- rendering -------------------------------------------------------------
  const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

  // A delivery window in the customer's own time: "2026-11-25 12:00–17:00".
  function windowText(value) {
    if (!value || typeof value !== "object" || Array.isArray(value)) return null;
    const keys = Object.keys(value);
    if (keys.length !== 2 || !ISO_TIME.test(value.start) || !ISO_TIME.test(value.end)) return null;
    const sameDay = value.start.slice(0, 10) === value.end.slice(0, 10);
    return value.start.slice(0, 10) + " " + value.start.slice(11, 16) + "–" +
      (sameDay ? "" : value.end.slice(0, 10) + " ") + value.end.slice(11, 16);
  }

  function valueNode(value, depth) {
    if (value === null || value === undefined || value === "") return h("span", { className: "muted" }, "–");
    if (typeof value === "string" && ISO_TIME.test(value)) {
      return h("time", { datetime: value, title: value }, C.when(value));
    }
    if (windowText(value)) return document.createTextNode(windowText(value));
    if (typeof value !== "object") return document.createTextNode(String(value));
    if (depth > 3) return document.createTextNode(JSON.stringify(value));
    if (Array.isArray(value)) {
      if (!value.length) return h("span", { className: "muted" }, "none");
      return h("ul", { className: "plain" }, value.map(function (v) { return h("li", null, valueNode(v, depth + 1)); }));
    }
    return pairs(value, depth + 1);
  }

  function pairs(object, depth) {
    const list = h("dl", { className: "kv" });
    Object.keys(object || {}).forEach(function (key) {
      list.appendChild(h("div", null, h("dt", null, C.words(key)), h("dd", null, valueNode(object[key], depth || 0))));
    });
    return list;
  }

  function fill(id, node) {
    const target = C.clear($(id));
    target.appendChild(node);
  }

  function isEmpty(value) {
    return value === null || value === undefined || (typeof value === "object" && !Object.keys(value).length);
  }

  function renderHeader(c) {
    const esc = c.escalation || {};
    $("conv-name").textContent = c.recipient_name || c.phone || "Unknown customer";
    const address = c.channel === "telegram" ? "chat " + (c.telegram_chat_id || "") : c.phone;
    C.setText("conv-channel", [c.channel === "sms" ? "SMS" : c.channel, address].filter(Boolean).join(" · "));
    C.setText("conv-case-status", C.words(c.case_status));
    const desk = C.setText("conv-desk-status", c.status + (esc.overdue ? " · overdue" : ""));
    desk.dataset.status = c.status || "";
    C.setText("conv-assignee", esc.assignee_name || esc.assignee || (c.escalation ? "unassigned" : ""));
    document.title = ($("conv-name").textContent || "Conversation") + " · Doorstep";
  }

  function renderHandoff(c) {
    const esc = c.escalation;
    const summary = c.handoff_summary;
    $("handoff").hidden = !esc;
    const body = C.clear($("handoff-body"));
    if (!esc) return;
    body.appendChild(h("p", { className: "handoff-reason" },
      h("strong", null, C.words(esc.reason) || "Escalated"),
      esc.escalated_at ? h("span", { className: "muted" }, C.since(esc.escalated_at) + " ago") : null,
      esc.overdue ? h("span", { className: "badge badge-overdue" }, "Overdue") : null));
    if (typeof summary === "string") { body.appendChild(h("p", null, summary)); return; }
    if (isEmpty(summary)) return;
    const rest = Object.assign({}, summary);
    const exc = rest.exception;
    delete rest.exception;
    if (exc && typeof exc === "object") {
      body.appendChild(h("p", null, [C.typeLabel(exc.type), C.words(exc.reason), exc.tracking_number]
        .filter(Boolean).join(" · ")));
    }
    if (rest.flow) body.appendChild(h("p", { className: "muted" },
      "Bot was in: " + C.words(rest.flow) + (rest.step ? " → " + C.words(rest.step) : "")));
    delete rest.flow;
    delete rest.step;
    if (!isEmpty(rest.collected)) {
      body.appendChild(h("h3", null, "Collected"));
      body.appendChild(pairs(rest.collected));
    }
    delete rest.collected;
    const lastMessages = rest.last_messages;
    delete rest.last_messages;
    if (Array.isArray(lastMessages) && lastMessages.length) {
      body.appendChild(h("h3", null, "Last messages"));
      body.appendChild(h("ol", { className: "handoff-messages" }, lastMessages.map(function (m) {
        return h("li", { className: "handoff-msg-" + (m.direction === "in" ? "in" : "out") },
          h("span", { className: "muted" }, m.direction === "in" ? "Customer: " : "Bot: "), m.text || "");
      })));
    }
    if (!isEmpty(rest)) body.appendChild(pairs(rest));
  }

  function mediaNode(m) {
    const src = base + "/media/" + encodeURIComponent(m.id);
    if ((m.content_type || "").indexOf("image/") === 0) {
      return h("a", { href: src, target: "_blank", rel: "noopener", className: "photo" },
        h("img", { src: src, alt: "Photo from the customer", loading: "lazy" }));
    }
    return h("a", { href: src, target: "_blank", rel: "noopener" }, "Attachment (" + (m.content_type || "file") + ")");
  }

  function authorLabel(m) {
    if (m.author === "staff") return (m.author_name || "Staff") + " (staff)";
    return AUTHORS[m.author] || (m.direction === "in" ? "Customer" : "Bot");
  }

  function deliveryNode(m) {
    if (m.direction !== "out" || !m.delivery) return null;
    const text = m.delivery + (m.error_code ? " (" + m.error_code + ")" : "");
    return h("span", { className: "delivery", dataset: { delivery: m.delivery } }, text);
  }

  function renderTranscript(c) {
    const list = $("transcript");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    C.clear(list);
    const messages = c.transcript || [];
    if (!messages.length) list.appendChild(h("li", { className: "muted" }, "No messages yet."));
    messages.forEach(function (m) {
      const author = m.author || (m.direction === "in" ? "customer" : "bot");
      list.appendChild(h("li", {
        className: "msg msg-" + (m.direction === "in" ? "in" : "out") + " author-" + author,
        dataset: { key: m.key || "", author: author },
      },
      h("div", { className: "bubble" },
        m.text ? h("p", { className: "msg-text" }, m.text) : null,
        (m.media || []).length ? h("div", { className: "msg-media" }, m.media.map(mediaNode)) : null),
      h("div", { className: "msg-meta" },
        h("span", { className: "msg-author" }, authorLabel(m)),
        h("time", { datetime: m.at || "" }, C.when(m.at)),
        deliveryNode(m))));
    });
    if (atBottom || !list.dataset.rendered) list.scrollTop = list.scrollHeight;
    list.dataset.rendered = "yes";
  }

  function renderNotes(c) {
    const list = C.clear($("notes"));
    const notes = c.notes || [];
    if (!notes.length) list.appendChild(h("li", { className: "muted" }, "No notes yet."));
    notes.forEach(function (n) {
      list.appendChild(h("li", { className: "note" },
        h("p", { className: "note-text" }, n.text),
        h("div", { className: "msg-meta" },
          h("span", null, n.author_name || n.author || "Staff"),
          h("time", { datetime: n.at || "" }, C.when(n.at)))));
    });
  }

  function renderDetails(c) {
    const kase = c.case || {};
    const facts = {
      type: C.typeLabel(c.type), reason: C.words(c.reason), tracking_number: c.tracking_number,
      carrier: c.carrier, order_ref: c.order_ref, language: c.language, opened: C.when(c.created_at),
    };
    const node = h("div", null, pairs(facts));
    if (kase.resolution) node.appendChild(h("div", null, h("h3", null, "Resolution"), pairs(kase.resolution)));
    const shipment = kase.shipment || {};
    if (shipment.address) node.appendChild(h("div", null, h("h3", null, "Address"), pairs(shipment.address)));
    if (shipment.value) node.appendChild(h("div", null, h("h3", null, "Declared value"), pairs(shipment.value)));
    if (!isEmpty(kase.details)) node.appendChild(h("div", null, h("h3", null, "Event details"), pairs(kase.details)));
    fill("case-details", node);
    const slots = {};
    Object.keys(c.slots || {}).forEach(function (k) {
      const v = c.slots[k];
      if (v !== null && v !== undefined && v !== "" && !(Array.isArray(v) && !v.length)) slots[k] = v;
    });
    fill("slots", isEmpty(slots) ? h("p", { className: "muted" }, "Nothing yet.") : pairs(slots));
    const media = c.media || [];
    fill("photos", media.length ? h("div", { className: "photo-grid" }, media.map(mediaNode))
      : h("p", { className: "muted" }, "None."));
  }

  function renderTimeline(c) {
    const list = C.clear($("timeline"));
    const entries = c.timeline || [];
    $("timeline-details").querySelector("summary").textContent = "Timeline (" + entries.length + ")";
    entries.forEach(function (e) {
      const rest = Object.keys(e).filter(function (k) { return k !== "at" && k !== "kind"; })
        .map(function (k) {
          const v = e[k];
          return C.words(k) + ": " + (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));
        }).join(" · ");
      list.appendChild(h("li", null,
        h("time", { datetime: e.at || "" }, C.when(e.at)), " ",
        h("strong", null, C.words(e.kind)),
        rest ? h("span", { className: "timeline-rest" }, " " + rest) : null));
    });
  }

  // Which actions make sense now; the server still decides (and says why not).
  function applyState() {
    const c = current;
    if (!c) return;
    const esc = c.escalation || {};
    const holder = esc.assignee || null;
    const mine = Boolean(holder) && holder === C.me.email;
    const supervisor = C.me.role === "supervisor";
    const waiting = c.status === "escalated" && !holder;
    buttons.claim.disabled = busy || !waiting;
    buttons.release.disabled = busy || !(c.status === "held" && (mine || supervisor));
    const mayAct = !holder || mine || supervisor; // a held conversation is its holder's
    buttons.handback.disabled = busy || !(c.status === "escalated" || c.status === "held") || !mayAct;
    buttons.resolve.disabled = busy || c.status === "closed" || !mayAct;
    const canReply = mine && c.status === "held";
    replyText.disabled = !canReply;
    replyText.placeholder = canReply ? "Write to the customer…" :
      holder && !mine ? "Someone else holds this conversation" : "Claim the conversation to reply";
    buttons.send.disabled = busy || !canReply;
    $("canned").disabled = !canReply;
    $("reply-hint").textContent = canReply ? "Goes out on the customer's " + (c.channel === "sms" ? "SMS" : c.channel) : "";
    buttons.note.disabled = busy;
    buttons.confirm.disabled = busy;
    if (buttons.resolve.disabled) resolveForm.hidden = true;
  }

  function render(c) {
    current = c;
    renderHeader(c);
    renderHandoff(c);
    renderTranscript(c);
    renderNotes(c);
    renderDetails(c);
    renderTimeline(c);
    applyState();
  }

  async function load() {
    render(await C.api("GET", base));
  }
  const refresh = C.coalesce(load, 100);

  // -- actions -------------------------------------------------------------------
  async function act(path, payload, done) {
    if (busy) return;
    busy = true;
    applyState();
    C.hideAlert();
    try {
      await C.api("POST", base + path, payload === undefined ? {} : payload);
      if (done) done();
    } catch (err) {
      C.reportError(err);
    } finally {
      busy = false;
      applyState();
      refresh();
    }
  }

  buttons.claim.addEventListener("click", function () { act("/claim"); });
  buttons.release.addEventListener("click", function () { act("/release"); });
  buttons.handback.addEventListener("click", function () {
    act("/handback", { restart: $("handback-restart").checked });
  });

  $("reply-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const text = replyText.value.trim();
    if (!text) { C.showAlert("Write a reply first."); return; }
    act("/messages", { text: text }, function () { replyText.value = ""; });
  });
  replyText.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("reply-form").requestSubmit();
  });

  $("note-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const text = noteText.value.trim();
    if (!text) { C.showAlert("Write the note first."); return; }
    act("/notes", { text: text }, function () { noteText.value = ""; });
  });

  buttons.resolve.addEventListener("click", async function () {
    resolveForm.hidden = false;
    try {
      const data = await C.api("GET", "/api/resolution-codes");
      const select = $("resolution-code");
      const chosen = select.value;
      while (select.options.length > 1) select.remove(1);
      (data.resolution_codes || []).forEach(function (r) {
        select.appendChild(h("option", { value: r.code }, r.label || r.code));
      });
      select.value = chosen;
      select.focus();
    } catch (err) {
      C.reportError(err);
    }
  });
  $("cancel-resolve").addEventListener("click", function () { resolveForm.hidden = true; });
  resolveForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const code = $("resolution-code").value;
    const note = $("resolution-note").value.trim();
    if (!code || !note) { C.showAlert("Choose a resolution and write a note."); return; }
    act("/resolve", { resolution_code: code, note: note }, function () {
      resolveForm.hidden = true;
      $("resolution-note").value = "";
      C.showAlert("Case resolved.", "info");
    });
  });

  // Canned responses: picking one inserts its text where the cursor is.
  const canned = $("canned");
  const cannedText = {};
  C.api("GET", "/api/canned-responses").then(function (data) {
    (data.canned_responses || []).forEach(function (r) {
      cannedText[r.id] = r.text;
      canned.appendChild(h("option", { value: r.id }, r.title));
    });
  }, C.reportError);
  canned.addEventListener("change", function () {
    const text = cannedText[canned.value];
    canned.value = "";
    if (!text || replyText.disabled) return;
    const start = replyText.selectionStart, end = replyText.selectionEnd;
    replyText.setRangeText(text, start, end, "end");
    replyText.focus();
  });

  refresh();
  C.live(function (data) { if (data && data.id === caseId) refresh(); }, refresh);
})();
