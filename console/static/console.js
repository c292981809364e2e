// Doorstep console: shared helpers for every page (no libraries, no build step).
// Data from the API only ever reaches the page through textContent and attributes
// (never innerHTML), so a customer's message cannot become markup.
"use strict";

window.Console = (function () {
  const body = document.body;
  const me = { email: body.dataset.staffEmail || "", role: body.dataset.staffRole || "" };

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function toLogin() {
    const next = location.pathname + location.search;
    location.assign("/console/login?next=" + encodeURIComponent(next));
  }

  // Call the JSON API; resolves to the parsed body (null for 204), rejects with ApiError.
  async function api(method, path, payload) {
    const headers = { Accept: "application/json" };
    const options = { method: method, headers: headers, credentials: "same-origin" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (err) {
      throw new ApiError(0, "The server did not answer. Check your connection and try again.");
    }
    if (response.status === 401) {
      toLogin();
      throw new ApiError(401, "Your session ended. Sign in again.");
    }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (err) { data = null; }
    }
    if (!response.ok) {
      throw new ApiError(response.status, (data && data.error) || describeStatus(response.status));
    }
    return data;
  }

  function describeStatus(status) {
    if (status === 403) return "You are not allowed to do that.";
    if (status === 404) return "Not found: it may have been removed.";
    if (status === 409) return "Someone else holds this conversation, or it changed meanwhile.";
    if (status === 422) return "Check what you entered and try again.";
    return "Something went wrong (" + status + "). Try again.";
  }

  // Build an element: h("li", {className: "row", dataset: {id: "c1"}}, "text", child...).
  function h(tag, attrs) {
    const node = document.createElement(tag);
    const props = attrs || {};
    Object.keys(props).forEach(function (key) {
      const value = props[key];
      if (value === undefined || value === null || value === false) return;
      if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "className") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "hidden" || key === "disabled") node[key] = Boolean(value);
      else node.setAttribute(key, value === true ? "" : String(value));
    });
    for (let i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(node, c); });
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function setText(id, value) {
    const node = document.getElementById(id);
    if (node) node.textContent = value === undefined || value === null || value === "" ? "–" : String(value);
    return node;
  }

  // The page's alert: errors (and the odd confirmation) for screen readers and eyes.
  let alertTimer = null;
  function showAlert(message, kind) {
    const box = document.getElementById("alert");
    if (!box) return;
    box.textContent = message;
    box.dataset.kind = kind || "error";
    box.hidden = false;
    clearTimeout(alertTimer);
    if (kind === "info") alertTimer = setTimeout(hideAlert, 4000);
  }

  function hideAlert() {
    const box = document.getElementById("alert");
    if (box) { box.hidden = true; box.textContent = ""; }
  }

  function reportError(err) {
    if (err && err.status === 401) return;
    showAlert(err && err.message ? err.message : String(err));
  }

  const typeLabels = (function () {
    const node = document.getElementById("type-labels");
    const map = {};
    try { JSON.parse(node.textContent).forEach(function (p) { map[p[0]] = p[1]; }); } catch (e) { /* none */ }
    return map;
  })();

  function typeLabel(type) {
    if (!type) return "";
    return typeLabels[type] || type.replace(/^delivery\./, "").replace(/_/g, " ");
  }

  function words(value) {
    return value ? String(value).replace(/_/g, " ") : "";
  }

  // "4 min", "2 h 5 min", "3 d" since an ISO time.
  function since(iso, now) {
    const then = Date.parse(iso);
    if (isNaN(then)) return "";
    const minutes = Math.max(0, Math.floor(((now || Date.now()) - then) / 60000));
    if (minutes < 1) return "just now";
    if (minutes < 60) return minutes + " min";
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + " h " + (minutes % 60) + " min";
    return Math.floor(hours / 24) + " d";
  }

  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });

  function when(iso) {
    const t = Date.parse(iso);
    if (isNaN(t)) return "";
    const d = new Date(t);
    return (new Date().toDateString() === d.toDateString() ? timeFormat : dateTimeFormat).format(d);
  }

  // Collapse bursts of changes into one refresh, and never run two at once.
  function coalesce(task, delayMs) {
    let timer = null, running = false, again = false;
    async function run() {
      timer = null;
      if (running) { again = true; return; }
      running = true;
      try { await task(); } catch (err) { reportError(err); } finally {
        running = false;
        if (again) { again = false; schedule(); }
      }
    }
    function schedule() { if (!timer) timer = setTimeout(run, delayMs); }
    return schedule;
  }

  // Live updates: onChange(data) for every published change; onReconnect() after a
  // reconnect (changes may have been missed while the stream was down).
  function live(onChange, onReconnect) {
    const badge = document.getElementById("live");
    let source = null, opened = false, retryTimer = null;
    function state(name, label) {
      if (!badge) return;
      badge.dataset.state = name;
      badge.textContent = label;
    }
    function connect() {
      source = new EventSource("/api/stream");
      source.addEventListener("open", function () {
        state("live", "live");
        if (opened && onReconnect) onReconnect();
        opened = true;
      });
      source.addEventListener("conversation", function (event) {
        let data;
        try { data = JSON.parse(event.data); } catch (err) { return; }
        onChange(data);
      });
      source.addEventListener("error", function () {
        if (source.readyState === EventSource.CLOSED) {
          // The server refused the stream (signed out?): find out, then retry later.
          state("offline", "offline");
          source.close();
          api("GET", "/api/me").then(function () {
            clearTimeout(retryTimer);
            retryTimer = setTimeout(connect, 5000);
          }, reportError);
        } else {
          state("connecting", "reconnecting…");
        }
      });
    }
    connect();
    window.addEventListener("pagehide", function () { if (source) source.close(); });
  }

  return {
    me: me, api: api, ApiError: ApiError, h: h, clear: clear, setText: setText,
    showAlert: showAlert, hideAlert: hideAlert, reportError: reportError,
    typeLabel: typeLabel, words: words, since: since, when: when,
    coalesce: coalesce, live: live,
  };
})();
