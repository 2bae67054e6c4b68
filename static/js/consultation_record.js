// The consultation record page: autosave feedback, a copy of unsaved typing in this browser
// (restored after a dropped connection or a new login), adding area rows, live totals.
(() => {
  "use strict";

  const script = document.getElementById("consultation-record-js");
  const signedId = script && script.dataset.signedConsultation;
  if (signedId) {
    // Signed: nothing left to restore for this record.
    try { localStorage.removeItem(`consultation-draft-${signedId}`); } catch (e) { /* private mode */ }
  }

  const form = document.getElementById("consultation-form");
  if (!form) return;

  const key = `consultation-draft-${form.dataset.consultationId}`;
  const serverUpdated = Number(form.dataset.serverUpdated) * 1000;
  const status = document.getElementById("save-status");
  const notice = document.getElementById("restore-notice");
  const rows = document.getElementById("assessment-rows");
  const total = form.querySelector('[name="assessments-TOTAL_FORMS"]');
  const template = document.getElementById("assessment-row-template");
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
    try { localStorage.setItem(key, JSON.stringify(snapshot())); } catch (e) { /* full or private */ }
  }

  function readLocal() {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function forgetLocal() {
    try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
  }

  function restore(local) {
    const values = new Map();
    for (const [name, value] of local.fields) {
      if (!values.has(name)) values.set(name, []);
      values.get(name).push(value);
    }
    // Rows added on this device that the server never received.
    const areaSelect = form.querySelector('[name="add_area"]');
    for (const [name, saved] of values) {
      const match = /^assessments-(\d+)-area$/.exec(name);
      if (!match || form.querySelector(`[name="${name}"]`)) continue;
      const row = addRow(Number(match[1]));
      const option = [...areaSelect.options].find((o) => o.value === saved[0]);
      row.querySelector("[data-area-label]").textContent = option ? option.textContent : saved[0];
      if (option) option.remove();
    }
    for (const el of form.elements) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name === "assessments-TOTAL_FORMS") continue;
      const saved = values.get(el.name);
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = Boolean(saved && saved.includes(el.value));
      } else if (el.tagName === "SELECT" && el.multiple) {
        for (const option of el.options) option.selected = Boolean(saved && saved.includes(option.value));
      } else if (saved) {
        el.value = saved[0];
      }
    }
    refreshAll();
  }

  // ---- area rows ----
  function addRow(index) {
    const html = template.innerHTML.replaceAll("__prefix__", String(index));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(Math.max(Number(total.value), index + 1));
    document.getElementById("no-areas").hidden = true;
    return rows.lastElementChild;
  }

  const addButton = form.querySelector("[data-add-area]");
  if (addButton) {
    addButton.addEventListener("click", (event) => {
      event.preventDefault();
      const area = form.querySelector('[name="add_area"]');
      const condition = form.querySelector('[name="add_condition"]');
      if (!area.value) { area.focus(); return; }
      if (!condition.value) { condition.focus(); return; }
      const row = addRow(Number(total.value));
      row.querySelector('[name$="-area"]').value = area.value;
      row.querySelector("[data-area-label]").textContent = area.selectedOptions[0].textContent;
      row.querySelector('[name$="-condition"]').value = condition.value;
      area.selectedOptions[0].remove();
      area.value = "";
      condition.value = "";
      keepLocal();
      htmx.trigger(form, "change");
      row.querySelector('[name$="-nurnberger_muller_grade"]').focus();
    });
  }

  // ---- live totals ----
  const number = (el) => (el && el.value !== "" ? Number(el.value) : NaN);

  function refreshBmi() {
    const weight = number(form.querySelector('[name="weight_kg"]'));
    const height = number(form.querySelector('[name="height_cm"]')) / 100;
    const out = document.getElementById("bmi");
    out.textContent = weight > 0 && height > 0 ? (weight / (height * height)).toFixed(1) : "—";
  }

  function refreshHexsel(row) {
    const names = ["nurnberger_muller_grade", "hexsel_depressions", "hexsel_depth", "hexsel_morphology", "hexsel_laxity"];
    const values = names.map((n) => number(row.querySelector(`[name$="-${n}"]`)));
    const out = row.querySelector("[data-hexsel-total]");
    out.textContent = values.some(Number.isNaN) ? "—" : String(values.reduce((a, b) => a + b, 0));
  }

  function refreshPlanTotal() {
    const sessions = number(form.querySelector('[name="plan-planned_sessions"]'));
    const price = number(form.querySelector('[name="plan-price_per_session"]'));
    const out = document.getElementById("plan-total");
    out.textContent = sessions > 0 && price >= 0 ? (sessions * price).toFixed(2) : "—";
  }

  function refreshAll() {
    refreshBmi();
    refreshPlanTotal();
    rows.querySelectorAll("[data-assessment-row]").forEach(refreshHexsel);
  }

  form.addEventListener("input", (event) => {
    keepLocal();
    const row = event.target.closest("[data-assessment-row]");
    if (row) refreshHexsel(row);
    refreshBmi();
    refreshPlanTotal();
  });
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
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("data-autosave-invalid", "");
      const message = document.createElement("div");
      message.className = "invalid-feedback d-block";
      message.setAttribute("data-autosave-error", "");
      message.textContent = item.textContent;
      input.insertAdjacentElement("afterend", message);
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
      say(`<span class="text-danger" data-state="logged-out">Not saved: you are logged out. What you typed is kept on this device; <a href="/accounts/login/?next=${next}">log in again</a> to continue.</span>`);
      return;
    }
    if (xhr.status === 400 || xhr.status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  form.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target !== status) return;
    const state = status.querySelector("[data-state]");
    if (state && state.dataset.state === "saved") {
      clearAutosaveErrors();
      if (lastChange <= requestStarted) forgetLocal();
    } else {
      showFieldErrors();
    }
  });

  function offline() {
    say('<span class="text-warning-emphasis" data-state="offline">Not saved yet: no connection. What you typed is kept on this device and saved when the connection is back.</span>');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => htmx.trigger(form, "change"), 15000);
  }

  form.addEventListener("htmx:sendError", offline);
  form.addEventListener("htmx:timeout", offline);
  form.addEventListener("htmx:responseError", (event) => {
    if (event.detail.xhr.status >= 500) offline();
  });
  window.addEventListener("online", () => htmx.trigger(form, "change"));

  // ---- on load: newer typing on this device than on the server? ----
  function restoreIfNewer() {
    const local = readLocal();
    if (form.dataset.bound === "1") {
      keepLocal(); // a refused submit: what is on screen is what was typed
    } else if (local && local.savedAt > serverUpdated) {
      restore(local);
      const when = new Date(local.savedAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      notice.textContent = `Restored what you typed on this device at ${when}; saving it now.`;
      notice.hidden = false;
      htmx.trigger(form, "change");
    } else if (local) {
      forgetLocal();
    }
    refreshAll();
  }

  // After htmx has set up the form's triggers (it does so on DOMContentLoaded).
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => setTimeout(restoreIfNewer, 0));
  } else {
    setTimeout(restoreIfNewer, 0);
  }
})();
