// The injection map of the session record. The practitioner picks the area being treated,
// then taps the drawing to add a point (with the volume per point, if given) and taps one of
// that area's points to remove it. Works with a finger or a mouse (plain click events).
//
// The points of each area live in its row's hidden input as JSON: [{diagram, x, y,
// volume_ml}], x and y as fractions (0..1) of the drawing's viewBox. Every change fires a
// "change" event on that input, so the page's autosave and its copy on this device see it.
(() => {
  "use strict";

  const card = document.querySelector("[data-injection-map]");
  const form = document.getElementById("session-form");
  const configNode = document.getElementById("session-map-config");
  if (!card || !form || !configNode) return;

  const SVG_NS = "http://www.w3.org/2000/svg";
  const MAX_POINTS = 500;
  const config = JSON.parse(configNode.textContent);
  const rowsBox = document.getElementById("areas-rows");
  const areaButtons = card.querySelector("[data-map-areas]");
  const noArea = card.querySelector("[data-map-no-area]");
  const volumeInput = card.querySelector("[data-point-volume]");
  const undoButton = card.querySelector("[data-map-undo]");
  const clearButton = card.querySelector("[data-map-clear]");
  const totalOut = card.querySelector("[data-map-total]");
  const hint = card.querySelector("[data-map-hint]");
  const svgs = [...card.querySelectorAll("svg[data-diagram]")];
  const tabs = [...card.querySelectorAll("[data-diagram-tab]")];
  const undo = []; // {area, value} before each change
  const volumes = {}; // the last volume per point used for each area
  let current = null;
  let shown = tabs.length ? tabs[0].dataset.diagramTab : "body_front";

  // ---- rows ----
  const areaOf = (row) => row.querySelector('input[name$="-area"]').value;
  const removed = (row) => {
    const box = row.querySelector('input[name$="-DELETE"]');
    return Boolean(box && box.checked);
  };
  const rows = () => [...rowsBox.querySelectorAll("[data-area-row]")].filter((r) => areaOf(r));
  const liveRows = () => rows().filter((r) => !removed(r));
  const rowOf = (area) => liveRows().find((r) => areaOf(r) === area);
  const colourOf = (area) => (config.colours && config.colours[area]) || "#333333";
  const labelOf = (row) => row.querySelector("[data-area-label]").textContent.trim();

  function pointsOf(row) {
    try {
      const value = JSON.parse(row.querySelector("[data-points]").value || "[]");
      return Array.isArray(value) ? value : [];
    } catch (e) {
      return [];
    }
  }

  function setPoints(row, points, { remember = true } = {}) {
    const input = row.querySelector("[data-points]");
    if (remember) undo.push({ area: areaOf(row), value: input.value });
    input.value = points.length ? JSON.stringify(points) : "";
    autoCount(row, points.length);
    input.dispatchEvent(new Event("change", { bubbles: true }));
    refresh();
  }

  // The "injection points" field follows the map until the practitioner types a number.
  function autoCount(row, count) {
    const field = row.querySelector('input[name$="-injection_points"]');
    if (!field) return;
    if (field.value === "" || field.value === field.dataset.auto) {
      field.value = count ? String(count) : "";
      field.dataset.auto = field.value;
    }
  }

  // ---- drawing ----
  function size(svg) {
    const box = svg.viewBox.baseVal;
    return { width: box.width, height: box.height };
  }

  function circle(svg, point, radius, className) {
    const { width, height } = size(svg);
    const dot = document.createElementNS(SVG_NS, "circle");
    dot.setAttribute("cx", String(point.x * width));
    dot.setAttribute("cy", String(point.y * height));
    dot.setAttribute("r", String(radius));
    dot.setAttribute("class", className);
    return dot;
  }

  function draw() {
    const counts = {};
    svgs.forEach((svg) => svg.querySelector("[data-map-points]").replaceChildren());
    // The current area last, so its points are on top and can be tapped.
    const ordered = liveRows().sort((a, b) => (areaOf(a) === current) - (areaOf(b) === current));
    for (const row of ordered) {
      const area = areaOf(row);
      const mine = area === current;
      pointsOf(row).forEach((point, index) => {
        const svg = svgs.find((s) => s.dataset.diagram === point.diagram);
        if (!svg) return;
        counts[point.diagram] = (counts[point.diagram] || 0) + 1;
        const layer = svg.querySelector("[data-map-points]");
        const dot = circle(svg, point, 3.6, mine ? "map-point" : "map-point map-point-other");
        dot.setAttribute("fill", colourOf(area));
        dot.dataset.point = String(index);
        dot.dataset.area = area;
        const title = document.createElementNS(SVG_NS, "title");
        title.textContent = labelOf(row) + (point.volume_ml ? ` · ${point.volume_ml} ml` : "");
        dot.append(title);
        layer.append(dot);
        if (mine) {
          const hit = circle(svg, point, 7, "map-hit");
          hit.dataset.point = String(index);
          hit.dataset.area = area;
          layer.append(hit);
        }
      });
    }
    tabs.forEach((tab) => {
      tab.querySelector("[data-tab-count]").textContent = String(counts[tab.dataset.diagramTab] || 0);
    });
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (totalOut) totalOut.textContent = total ? `${total} ${total === 1 ? "point" : "points"}` : "";
  }

  function summarise() {
    for (const row of rows()) {
      const points = pointsOf(row);
      const count = row.querySelector("[data-map-count]");
      if (count) count.textContent = String(points.length);
      const volume = points.reduce((sum, p) => sum + (Number(p.volume_ml) || 0), 0);
      const out = row.querySelector("[data-map-volume]");
      if (out) out.textContent = volume ? ` · ${volume.toFixed(2)} ml` : "";
      row.classList.toggle("is-mapping", areaOf(row) === current);
    }
  }

  function buildButtons() {
    const live = liveRows();
    if (current && !live.some((r) => areaOf(r) === current)) current = null;
    if (!current && live.length) current = areaOf(live[0]);
    areaButtons.replaceChildren();
    for (const row of live) {
      const area = areaOf(row);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-outline-dark map-area-button";
      button.style.setProperty("--area-colour", colourOf(area));
      button.dataset.mapArea = area;
      button.setAttribute("aria-pressed", String(area === current));
      const swatch = document.createElement("span");
      swatch.className = "area-swatch";
      swatch.setAttribute("aria-hidden", "true");
      button.append(swatch, document.createTextNode(labelOf(row)));
      button.addEventListener("click", () => choose(area));
      areaButtons.append(button);
    }
    noArea.hidden = live.length > 0;
    clearButton.disabled = !current;
  }

  function refresh() {
    buildButtons();
    draw();
    summarise();
    undoButton.disabled = undo.length === 0;
  }

  // ---- choosing the area and the drawing ----
  function show(key) {
    shown = key;
    tabs.forEach((tab) => {
      const on = tab.dataset.diagramTab === key;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-pressed", String(on));
    });
    card.querySelectorAll("[data-diagram-panel]").forEach((panel) => {
      panel.hidden = panel.dataset.diagramPanel !== key;
    });
  }

  function suggestedVolume(row) {
    const volume = Number(row.querySelector('input[name$="-volume_ml"]').value);
    const count = Number(row.querySelector('input[name$="-injection_points"]').value);
    return volume > 0 && count > 0 ? (volume / count).toFixed(2) : "";
  }

  function choose(area) {
    if (current && volumeInput.value) volumes[current] = volumeInput.value;
    current = area;
    const row = rowOf(area);
    if (row) {
      const points = pointsOf(row);
      const byDiagram = {};
      points.forEach((p) => { byDiagram[p.diagram] = (byDiagram[p.diagram] || 0) + 1; });
      const busiest = Object.keys(byDiagram).sort((a, b) => byDiagram[b] - byDiagram[a])[0];
      show(busiest || (config.diagrams && config.diagrams[area]) || row.dataset.diagram || shown);
      volumeInput.value = volumes[area] || suggestedVolume(row);
    }
    refresh();
  }

  tabs.forEach((tab) => tab.addEventListener("click", () => show(tab.dataset.diagramTab)));

  // ---- tapping ----
  function toDiagram(svg, event) {
    const matrix = svg.getScreenCTM();
    if (!matrix) return null;
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    const local = point.matrixTransform(matrix.inverse());
    const { width, height } = size(svg);
    const x = local.x / width;
    const y = local.y / height;
    if (x < 0 || x > 1 || y < 0 || y > 1) return null;
    return { x: Math.round(x * 10000) / 10000, y: Math.round(y * 10000) / 10000 };
  }

  function pointVolume() {
    const value = Number(volumeInput.value);
    return value >= 0.01 && value <= 5 ? Math.round(value * 100) / 100 : null;
  }

  function say(text) {
    hint.textContent = text;
    hint.classList.add("text-danger");
    setTimeout(() => hint.classList.remove("text-danger"), 2500);
  }

  svgs.forEach((svg) => {
    svg.addEventListener("click", (event) => {
      const row = current && rowOf(current);
      if (!row) {
        say("Add a treated area first, then choose it above the drawing.");
        return;
      }
      const points = pointsOf(row);
      const target = event.target;
      if (target.dataset && target.dataset.point !== undefined && target.dataset.area === current) {
        points.splice(Number(target.dataset.point), 1);
        setPoints(row, points);
        return;
      }
      if (points.length >= MAX_POINTS) {
        say(`At most ${MAX_POINTS} points per area.`);
        return;
      }
      const where = toDiagram(svg, event);
      if (!where) return;
      points.push({ diagram: svg.dataset.diagram, x: where.x, y: where.y, volume_ml: pointVolume() });
      setPoints(row, points);
    });
  });

  volumeInput.addEventListener("change", () => {
    if (current) volumes[current] = volumeInput.value;
  });

  undoButton.addEventListener("click", () => {
    const last = undo.pop();
    if (!last) return;
    const row = rowOf(last.area);
    if (row) {
      const input = row.querySelector("[data-points]");
      input.value = last.value;
      autoCount(row, pointsOf(row).length);
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    refresh();
  });

  clearButton.addEventListener("click", () => {
    const row = current && rowOf(current);
    if (!row) return;
    const count = pointsOf(row).length;
    if (!count) return;
    if (!window.confirm(`Remove the ${count} points of ${labelOf(row)} from the map?`)) return;
    setPoints(row, []);
  });

  // "Mark points on the map" in a row: choose it and bring the map into view.
  rowsBox.addEventListener("click", (event) => {
    const button = event.target.closest("[data-map-pick]");
    if (!button) return;
    const row = button.closest("[data-area-row]");
    if (!row || !areaOf(row)) return;
    if (removed(row)) row.querySelector('input[name$="-DELETE"]').checked = false;
    choose(areaOf(row));
    card.scrollIntoView({ behavior: "smooth", block: "start" });
  });

  // The map's own controls are not part of the record: keep their events from the autosave.
  ["input", "change", "keyup"].forEach((type) =>
    card.addEventListener(type, (event) => {
      if (!event.target.name) event.stopPropagation();
    }),
  );

  // Rows added, removed or restored, volumes typed: redraw.
  form.addEventListener("session:rows-changed", refresh);
  form.addEventListener("change", (event) => {
    if (event.target.matches("[data-points]")) return;
    if (event.target.closest("[data-area-row]")) refresh();
  });

  // Points already saved: the injection-points fields that match them follow the map.
  rows().forEach((row) => {
    const field = row.querySelector('input[name$="-injection_points"]');
    if (field && field.value !== "" && Number(field.value) === pointsOf(row).length) {
      field.dataset.auto = field.value;
    }
  });
  refresh();
  if (current) choose(current);
  window.InjectionMap = { refresh, choose };
})();
