// The session record page: autosave and the copy of unsaved work in this browser
// (record_autosave.js), rows added on this device (side effects, areas, adverse events) with the
// injection map told of them, lots limited to the chosen product, the chosen photo files.
(() => {
  "use strict";

  const script = document.getElementById("session-record-js");
  const signedId = script && script.dataset.signedRecord;
  if (signedId) RecordAutosave.forget(`session-record-draft-${signedId}`);

  const form = document.getElementById("session-form");
  if (!form) return;

  const configNode = document.getElementById("session-map-config");
  const config = configNode ? JSON.parse(configNode.textContent) : {};
  let autosave = null;

  // The injection map (injection_map.js) redraws on this.
  function rowsChanged() {
    form.dispatchEvent(new CustomEvent("session:rows-changed"));
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

  // Rows in the copy on this device that the server never received.
  function restoreRows(values) {
    for (const name of values.keys()) {
      const match = /^(side_effects|areas|adverse_events)-(\d+)-(\w+)$/.exec(name);
      if (!match || form.querySelector(`[name="${CSS.escape(match[1])}-${match[2]}-${CSS.escape(match[3])}"]`)) continue;
      const row = addRow(match[1], Number(match[2]));
      if (match[1] === "areas") {
        const area = (values.get(`areas-${match[2]}-area`) || [""])[0];
        describeArea(row, area);
      }
    }
  }

  // Rows now say what their (restored) area is.
  function afterRestore() {
    form.querySelectorAll("#areas-rows [data-area-row]").forEach((row) => {
      const area = row.querySelector('input[name$="-area"]').value;
      if (area) describeArea(row, area);
      filterLots(row);
    });
    rowsChanged();
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
      autosave.keepLocal();
      rowsChanged();
      row.querySelector('[name$="-product"]').focus();
    });
  }

  form.querySelectorAll("[data-add-row]").forEach((button) => {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      const row = addRow(button.dataset.addRow);
      autosave.keepLocal();
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

  // (before the autosave's own listener: the copy then has the lot this may clear)
  form.addEventListener("change", (event) => {
    if (event.target.matches('[name$="-product"]')) {
      const row = event.target.closest("[data-area-row]");
      if (row) filterLots(row);
    }
  });
  form.querySelectorAll("[data-area-row]").forEach(filterLots);

  // ---- autosave, the copy on this device ----
  // The map's points are a hidden field: say what is wrong with them next to the row's map summary.
  function placeError(input, message) {
    if (input.type !== "hidden") return false;
    const row = input.closest("[data-area-row]");
    const summary = row && row.querySelector("[data-map-summary]");
    if (summary) summary.append(message);
    return true;
  }

  autosave = RecordAutosave.init({
    form,
    key: `session-record-draft-${form.dataset.recordId}`,
    verb: "recorded",
    swapStatuses: [400, 403, 409],
    heldMarker: "[data-held]",
    resetIfAbsent: 'input[type="hidden"][data-points]',
    restoreRows,
    afterRestore,
    placeError,
  });

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
})();
