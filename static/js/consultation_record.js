// The consultation record page: autosave and the copy of unsaved typing in this browser
// (record_autosave.js), area rows added on this device, live totals.
(() => {
  "use strict";

  const script = document.getElementById("consultation-record-js");
  const signedId = script && script.dataset.signedConsultation;
  if (signedId) RecordAutosave.forget(`consultation-draft-${signedId}`);

  const form = document.getElementById("consultation-form");
  if (!form) return;

  const rows = document.getElementById("assessment-rows");
  const total = form.querySelector('[name="assessments-TOTAL_FORMS"]');
  const template = document.getElementById("assessment-row-template");

  // ---- area rows ----
  function addRow(index) {
    const html = template.innerHTML.replaceAll("__prefix__", String(index));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(Math.max(Number(total.value), index + 1));
    document.getElementById("no-areas").hidden = true;
    return rows.lastElementChild;
  }

  // Rows in the copy on this device that the server never received.
  function restoreRows(values) {
    const areaSelect = form.querySelector('[name="add_area"]');
    for (const [name, saved] of values) {
      const match = /^assessments-(\d+)-area$/.exec(name);
      if (!match || form.querySelector(`[name="${name}"]`)) continue;
      const row = addRow(Number(match[1]));
      const option = [...areaSelect.options].find((o) => o.value === saved[0]);
      row.querySelector("[data-area-label]").textContent = option ? option.textContent : saved[0];
      if (option) option.remove();
    }
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
    const row = event.target.closest("[data-assessment-row]");
    if (row) refreshHexsel(row);
    refreshBmi();
    refreshPlanTotal();
  });

  const autosave = RecordAutosave.init({
    form,
    key: `consultation-draft-${form.dataset.consultationId}`,
    verb: "typed",
    swapStatuses: [400, 409],
    restoreRows,
    afterRestore: refreshAll,
    afterLoad: refreshAll,
  });

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
      autosave.keepLocal();
      htmx.trigger(form, "change");
      row.querySelector('[name$="-nurnberger_muller_grade"]').focus();
    });
  }
})();
