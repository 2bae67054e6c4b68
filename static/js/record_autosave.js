// Autosave of a record form (the consultation, the session record): the answers of the htmx
// autosave in the status line, and a copy of unsaved work in this browser, restored after a
// dropped connection or a new login. The page's own script sets it up with
// RecordAutosave.init({...}) and keeps what only that page has (its rows, totals, map, photos).
//
// The form carries hx-post (target: the status line), data-server-updated (when the server last
// saved the record, in seconds) and data-bound ("1" when the page answers a refused submit).
// The status line's answer marks its state with data-state ("saved" or not) and lists field
// errors as [data-field] items.
window.RecordAutosave = (() => {
  "use strict";

  // A record signed since: nothing left to restore for it.
  function forget(key) {
    try { localStorage.removeItem(key); } catch (e) { /* private mode */ }
  }

  // options:
  //   form, key                  the record's form and where its copy is kept in localStorage
  //   status, notice             the status line and the "restored" notice (#save-status, #restore-notice)
  //   verb                       what the user did, in the messages: "typed" or "recorded"
  //   swapStatuses               answers shown in the status line although not 2xx
  //   heldMarker                 in a "saved" answer: part of the work is held back (not saved
  //                              until complete); the copy is then kept and restored even if older
  //                              than the server's record
  //   resetIfAbsent              fields emptied on restore when the copy has no value for them
  //   restoreRows(values)        add the rows the copy has and the page has not (values: name → [value])
  //   afterRestore()             after the copy's values are back in the form
  //   placeError(input, message) put a field error somewhere of its own; true when done
  //   afterLoad()                once the copy is restored or not, on load
  // Returns { keepLocal }: keep a fresh copy now (e.g. after adding a row by script).
  function init(options) {
    const form = options.form;
    const key = options.key;
    const status = options.status || document.getElementById("save-status");
    const notice = options.notice || document.getElementById("restore-notice");
    const verb = options.verb || "typed";
    const swapStatuses = options.swapStatuses || [400, 409];
    const hook = (name, ...args) => (options[name] ? options[name](...args) : undefined);
    const serverUpdated = Number(form.dataset.serverUpdated) * 1000;
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

    function writeLocal(copy) {
      try { localStorage.setItem(key, JSON.stringify(copy)); } catch (e) { /* full or private */ }
    }

    function keepLocal() {
      lastChange = Date.now();
      // (a fresh copy: whether part of it is held back is known again after the next autosave)
      writeLocal(snapshot());
    }

    function readLocal() {
      try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
    }

    function forgetLocal() {
      forget(key);
    }

    function restore(local) {
      const values = new Map();
      for (const [name, value] of local.fields) {
        if (!values.has(name)) values.set(name, []);
        values.get(name).push(value);
      }
      // Rows added on this device that the server never received.
      hook("restoreRows", values);
      for (const el of form.elements) {
        if (!el.name || el.name === "csrfmiddlewaretoken" || el.name.endsWith("-TOTAL_FORMS")) continue;
        const saved = values.get(el.name);
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = Boolean(saved && saved.includes(el.value));
        } else if (el.tagName === "SELECT" && el.multiple) {
          for (const option of el.options) option.selected = Boolean(saved && saved.includes(option.value));
        } else if (saved) {
          el.value = saved[0];
        } else if (options.resetIfAbsent && el.matches(options.resetIfAbsent)) {
          el.value = "";
        }
      }
      hook("afterRestore");
    }

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
        if (hook("placeError", input, message)) return;
        input.classList.add("is-invalid");
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("data-autosave-invalid", "");
        // A choice of radio buttons: say it below the choice.
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
        say(`<span class="text-danger" data-state="logged-out">Not saved: you are logged out. What you ${verb} is kept on this device; <a href="/accounts/login/?next=${next}">log in again</a> to continue.</span>`);
        return;
      }
      if (swapStatuses.includes(xhr.status)) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });

    form.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target !== status) return;
      const state = status.querySelector("[data-state]");
      if (state && state.dataset.state === "saved") {
        clearAutosaveErrors();
        if (options.heldMarker && status.querySelector(options.heldMarker)) {
          // Held back until complete: the copy on this device is the only one of that part.
          const local = readLocal();
          if (local) {
            local.held = true;
            writeLocal(local);
          }
        } else if (lastChange <= requestStarted) {
          forgetLocal();
        }
      } else {
        showFieldErrors();
      }
    });

    function offline() {
      say(`<span class="text-warning-emphasis" data-state="offline">Not saved yet: no connection. What you ${verb} is kept on this device and saved when the connection is back.</span>`);
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => htmx.trigger(form, "change"), 15000);
    }

    form.addEventListener("htmx:sendError", offline);
    form.addEventListener("htmx:timeout", offline);
    form.addEventListener("htmx:responseError", (event) => {
      if (event.detail.xhr.status >= 500) offline();
    });
    window.addEventListener("online", () => htmx.trigger(form, "change"));

    // ---- on load: newer work on this device than on the server (or held back)? ----
    function restoreIfNewer() {
      const local = readLocal();
      if (form.dataset.bound === "1") {
        keepLocal(); // a refused submit: what is on screen is what was typed
      } else if (local && (local.savedAt > serverUpdated || local.held)) {
        restore(local);
        const when = new Date(local.savedAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        notice.textContent = `Restored what you ${verb} on this device at ${when}; saving it now.`;
        notice.hidden = false;
        htmx.trigger(form, "change");
      } else if (local) {
        forgetLocal();
      }
      hook("afterLoad");
    }

    // After htmx has set up the form's triggers (it does so on DOMContentLoaded).
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", () => setTimeout(restoreIfNewer, 0));
    } else {
      setTimeout(restoreIfNewer, 0);
    }

    return { keepLocal };
  }

  return { init, forget };
})();
