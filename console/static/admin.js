// Supervisors: canned responses, resolution codes and staff accounts, through the API.
"use strict";

(function () {
  const C = window.Console;
  const h = C.h;
  const $ = function (id) { return document.getElementById(id); };

  function removeButton(label, onClick) {
    const button = h("button", { type: "button", className: "small danger", "aria-label": label }, "Remove");
    button.addEventListener("click", onClick);
    return button;
  }

  async function run(task, okMessage) {
    C.hideAlert();
    try {
      await task();
      if (okMessage) C.showAlert(okMessage, "info");
    } catch (err) {
      C.reportError(err);
    }
  }

  // -- canned responses ------------------------------------------------------
  async function loadCanned() {
    const data = await C.api("GET", "/api/canned-responses");
    const list = C.clear($("canned-list"));
    const items = data.canned_responses || [];
    if (!items.length) list.appendChild(h("li", { className: "muted" }, "No canned responses yet."));
    items.forEach(function (r) {
      list.appendChild(h("li", { dataset: { id: r.id } },
        h("div", { className: "admin-item" }, h("strong", null, r.title), h("p", null, r.text)),
        removeButton("Remove " + r.title, function () {
          if (!confirm("Remove the canned response “" + r.title + "”?")) return;
          run(async function () {
            await C.api("DELETE", "/api/canned-responses/" + encodeURIComponent(r.id));
            await loadCanned();
          });
        })));
    });
  }

  $("canned-form").addEventListener("submit", function (event) {
    event.preventDefault();
    run(async function () {
      await C.api("POST", "/api/canned-responses",
        { title: $("canned-title").value.trim(), text: $("canned-text").value.trim() });
      $("canned-form").reset();
      await loadCanned();
    }, "Canned response added.");
  });

  // -- resolution codes --------------------------------------------------------
  async function loadCodes() {
    const data = await C.api("GET", "/api/resolution-codes");
    const list = C.clear($("codes-list"));
    const items = data.resolution_codes || [];
    if (!items.length) list.appendChild(h("li", { className: "muted" }, "No resolution codes: cases cannot be resolved."));
    items.forEach(function (r) {
      list.appendChild(h("li", { dataset: { code: r.code } },
        h("div", { className: "admin-item" }, h("strong", null, r.label), h("code", null, r.code)),
        removeButton("Remove " + r.code, function () {
          if (!confirm("Remove the resolution code “" + r.code + "”?")) return;
          run(async function () {
            await C.api("DELETE", "/api/resolution-codes/" + encodeURIComponent(r.code));
            await loadCodes();
          });
        })));
    });
  }

  $("code-form").addEventListener("submit", function (event) {
    event.preventDefault();
    run(async function () {
      await C.api("POST", "/api/resolution-codes",
        { code: $("code-code").value.trim(), label: $("code-label").value.trim() });
      $("code-form").reset();
      await loadCodes();
    }, "Resolution code added.");
  });

  // -- staff ------------------------------------------------------------------
  async function loadStaff() {
    const data = await C.api("GET", "/api/staff");
    const list = C.clear($("staff-list"));
    (data.staff || []).forEach(function (s) {
      let action = null;
      if (!s.disabled && s.email !== C.me.email) {
        action = h("button", { type: "button", className: "small danger", "aria-label": "Disable " + s.email }, "Disable");
        action.addEventListener("click", function () {
          if (!confirm("Disable " + s.email + "? Their sessions end at once.")) return;
          run(async function () {
            await C.api("POST", "/api/staff/" + encodeURIComponent(s.email) + "/disable");
            await loadStaff();
          }, s.email + " is disabled.");
        });
      }
      list.appendChild(h("li", { dataset: { email: s.email }, className: s.disabled ? "is-disabled" : "" },
        h("div", { className: "admin-item" },
          h("strong", null, s.name || s.email),
          h("span", null, s.email),
          h("span", { className: "badge" }, s.role),
          s.disabled ? h("span", { className: "badge badge-overdue" }, "disabled") : null),
        action));
    });
  }

  $("staff-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const payload = {
      email: $("staff-email").value.trim(), role: $("staff-role").value,
      name: $("staff-name").value.trim(), password: $("staff-password").value,
    };
    run(async function () {
      await C.api("POST", "/api/staff", payload);
      $("staff-form").reset();
      await loadStaff();
    }, payload.email + " can sign in now.");
  });

  [loadCanned, loadCodes, loadStaff].forEach(function (load) { load().catch(C.reportError); });
})();
