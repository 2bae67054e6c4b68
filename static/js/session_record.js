// The session record page: autosave feedback, a copy of unsaved work in this browser
// (restored after a dropped connection or a new login), adding rows (side effects, areas,
// adverse events), lots limited to the chosen product, the chosen photo files.
(() => {
  "use strict";

  const script = document.getElementById("session-record-js");
  const signedId = script && script.dataset.signedRecord;
  if (signedId) {
    // Signed: nothing left to restore for this record.
    try { localStorage.removeItem(`session-record-draft-${signedId}`); } catch (e) { /* private mode */ }
  }

  const form = document.getElementById("session-form");
  if (!form) return;

  const key = `session-record-draft-${form.dataset.recordId}`;
  const serverUpdated = Number(form.dataset.serverUpdated) * 1000;
  const status = document.getElementById("save-status");
  const notice = document.getElementById("restore-notice");
  const configNode = document.getElementById("session-map-config");
  const config = configNode ? JSON.parse(configNode.textContent) : {};
  let lastChange = 0;
  let requestStarted = 0;
  let retryTimer = null;

  // ---- the copy in this browser ----
  function snapshot() {
    const fields = [];
    for (const [name, value] of new FormData(form)) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") fields.push([name, value]);
    }
    return { savedAt: Date.now(), fields };
  }

  function keepLocal() {
    lastChange = Date.now();
    // (a fresh copy: whether rows are held back is known again after the next autosave)
    try { localStorage.setItem(key, JSON.stringify(snapshot())); } catch (e) { /* full or private */ }
  }

  function readLocal() {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function forgetLocal() {
    try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
  }

  function rowsChanged() {
    form.dispatchEvent(new CustomEvent("session:rows-changed"));
  }

  function restore(local) {
    const values = new Map();
    for (const [name, value] of local.fields) {
      if (!values.has(name)) values.set(name, []);
      values.get(name).push(value);
    }
    // Rows added on this device that the server never received.
    for (const name of values.keys()) {
      const match = /^(side_effects|areas|adverse_events)-(\d+)-(\w+)$/.exec(name);
      if (!match || form.querySelector(`[name="${CSS.escape(match[1])}-${match[2]}-${CSS.escape(match[3])}"]`)) continue;
      const row = addRow(match[1], Number(match[2]));
      if (match[1] === "areas") {
        const area = (values.get(`areas-${match[2]}-area`) || [""])[0];
        describeArea(row, area);
      }
    }
    for (const el of form.elements) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name.endsWith("-TOTAL_FORMS")) continue;
      const saved = values.get(el.name);
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = Boolean(saved && saved.includes(el.value));
      } else if (saved) {
        el.value = saved[0];
      } else if (el.type === "hidden" && el.hasAttribute("data-points")) {
        el.value = "";
      }
    }
    // Rows now say what their (restored) area is.
    form.querySelectorAll("#areas-rows [data-area-row]").forEach((row) => {
      const area = row.querySelector('input[name$="-area"]').value;
      if (area) describeArea(row, area);
      filterLots(row);
    });
    rowsChanged();
  }

  // ---- rows ----
  function addRow(kind, index) {
    const template = document.getElementById(`${kind}-row-template`);
    const box = document.getElementById(`${kind}-rows`);
    const total = form.querySelector(`[name="${kind}-TOTAL_FORMS"]`);
    const at = index === undefined ? Number(total.value) : index;
    box.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__prefix__", String(at)));
    total.value = String(Math.max(Number(total.value), at + 1));
    if (kind === "areas") document.getElementById("no-areas").hidden = true;
    return box.lastElementChild;
  }

  function describeArea(row, area) {
    const select = form.querySelector('[name="add_area"]');
    const option = [...select.options].find((o) => o.value === area);
    row.querySelector('input[name$="-area"]').value = area;
    row.dataset.area = area;
    row.dataset.diagram = (config.diagrams && config.diagrams[area]) || "body_front";
    row.querySelector("[data-area-label]").textContent = (config.labels && config.labels[area]) || area;
    row.style.setProperty("--area-colour", (config.colours && config.colours[area]) || "#888");
    const planned = config.planned || [];
    row.querySelector("[data-extra]").hidden = !(planned.length && !planned.includes(area));
    if (option) option.remove();
  }

  const addArea = form.querySelector("[data-add-area]");
  if (addArea) {
    addArea.addEventListener("click", (event) => {
      event.preventDefault();
      const select = form.querySelector('[name="add_area"]');
      if (!select.value) { select.focus(); return; }
      const row = addRow("areas");
      describeArea(row, select.value);
      select.value = "";
      keepLocal();
      rowsChanged();
      row.querySelector('[name$="-product"]').focus();
    });
  }

  form.querySelectorAll("[data-add-row]").forEach((button) => {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      const row = addRow(button.dataset.addRow);
      keepLocal();
      const first = row.querySelector("select, input:not([type=hidden]), textarea");
      if (first) first.focus();
    });
  });

  // ---- lots of the chosen product only ----
  function filterLots(row) {
    const product = row.querySelector('[name$="-product"]');
    const lot = row.querySelector('[name$="-lot"]');
    if (!product || !lot) return;
    for (const option of lot.querySelectorAll("option[data-product]")) {
      const other = product.value !== "" && option.dataset.product !== product.value;
      option.hidden = other;
      option.disabled = other;
    }
    for (const group of lot.querySelectorAll("optgroup")) {
      group.hidden = [...group.querySelectorAll("option")].every((o) => o.hidden);
    }
    const chosen = lot.selectedOptions[0];
    if (chosen && chosen.disabled) lot.value = "";
  }

  form.addEventListener("change", (event) => {
    if (event.target.matches('[name$="-product"]')) {
      const row = event.target.closest("[data-area-row]");
      if (row) filterLots(row);
    }
  });
  form.querySelectorAll("[data-area-row]").forEach(filterLots);

  // ---- keeping a copy while typing ----
  form.addEventListener("input", keepLocal);
  form.addEventListener("change", keepLocal);

  // ---- the autosave's answers ----
  function clearAutosaveErrors() {
    form.querySelectorAll("[data-autosave-invalid]").forEach((el) => {
      el.classList.remove("is-invalid");
      el.removeAttribute("data-autosave-invalid");
      el.removeAttribute("aria-invalid");
    });
    form.querySelectorAll("[data-autosave-error]").forEach((el) => el.remove());
  }

  function showFieldErrors() {
    clearAutosaveErrors();
    status.querySelectorAll("[data-field]").forEach((item) => {
      const input = form.querySelector(`[name="${CSS.escape(item.dataset.field)}"]`);
      if (!input) return;
      const message = document.createElement("div");
      message.className = "invalid-feedback d-block";
      message.setAttribute("data-autosave-error", "");
      message.textContent = item.textContent;
      if (input.type === "hidden") {
        // The map's points: say it next to the row's map summary.
        const row = input.closest("[data-area-row]");
        const summary = row && row.querySelector("[data-map-summary]");
        if (summary) summary.append(message);
        return;
      }
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("data-autosave-invalid", "");
      (input.type === "radio" ? input.closest("fieldset") : input).insertAdjacentElement(
        input.type === "radio" ? "beforeend" : "afterend", message);
    });
  }

  function say(html) {
    status.innerHTML = html;
  }

  form.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt !== form) return;
    requestStarted = Date.now();
  });

  // Swap events name the target (the status line), not the form that asked.
  form.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target !== status) return;
    const xhr = event.detail.xhr;
    if (xhr.responseURL && xhr.responseURL.includes("/accounts/login/")) {
      // The login expired: keep everything here and say how to carry on.
      event.detail.shouldSwap = false;
      const next = encodeURIComponent(window.location.pathname);
      say(`<span class="text-danger" data-state="logged-out">Not saved: you are logged out. What you recorded is kept on this device; <a href="/accounts/login/?next=${next}">log in again</a> to continue.</span>`);
      return;
    }
    if ([400, 403, 409].includes(xhr.status)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  form.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target !== status) return;
    const state = status.querySelector("[data-state]");
    if (state && state.dataset.state === "saved") {
      clearAutosaveErrors();
      if (status.querySelector("[data-held]")) {
        // Rows held back until complete: the copy on this device is the only one of them.
        const local = readLocal();
        if (local) {
          local.held = true;
          try { localStorage.setItem(key, JSON.stringify(local)); } catch (e) { /* ignore */ }
        }
      } else if (lastChange <= requestStarted) {
        forgetLocal();
      }
    } else {
      showFieldErrors();
    }
  });

  function offline() {
    say('<span class="text-warning-emphasis" data-state="offline">Not saved yet: no connection. What you recorded is kept on this device and saved when the connection is back.</span>');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => htmx.trigger(form, "change"), 15000);
  }

  form.addEventListener("htmx:sendError", offline);
  form.addEventListener("htmx:timeout", offline);
  form.addEventListener("htmx:responseError", (event) => {
    if (event.detail.xhr.status >= 500) offline();
  });
  window.addEventListener("online", () => htmx.trigger(form, "change"));

  // ---- photos: say which files will be sent ----
  const photoForm = document.getElementById("photo-form");
  const chosen = document.querySelector("[data-photo-chosen]");
  document.querySelectorAll("[data-photo-input]").forEach((input) => {
    input.addEventListener("change", () => {
      const names = [...document.querySelectorAll("[data-photo-input]")]
        .flatMap((i) => [...i.files].map((f) => f.name));
      if (chosen) chosen.textContent = names.length ? names.join(", ") : "";
    });
  });
  // The photo inputs sit inside the record form on the page but belong to #photo-form: their
  // events are not the record's (no autosave, no copy).
  const photoSection = document.getElementById("photos");
  if (photoSection) {
    ["input", "change", "keyup"].forEach((type) =>
      photoSection.addEventListener(type, (event) => {
        if (event.target.form !== form) event.stopPropagation();
      }),
    );
  }
  if (photoForm) {
    photoForm.addEventListener("submit", () => {
      const button = document.querySelector('[data-testid="upload-photos"]');
      if (button) button.disabled = true;
    });
  }

  // ---- on load: newer work on this device than on the server? ----
  function restoreIfNewer() {
    const local = readLocal();
    if (form.dataset.bound === "1") {
      keepLocal(); // a refused submit: what is on screen is what was typed
    } else if (local && (local.savedAt > serverUpdated || local.held)) {
      restore(local);
      const when = new Date(local.savedAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      notice.textContent = `Restored what you recorded on this device at ${when}; saving it now.`;
      notice.hidden = false;
      htmx.trigger(form, "change");
    } else if (local) {
      forgetLocal();
    }
  }

  // After htmx has set up the form's triggers (it does so on DOMContentLoaded).
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => setTimeout(restoreIfNewer, 0));
  } else {
    setTimeout(restoreIfNewer, 0);
  }
})();
