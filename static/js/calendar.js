// The front-desk calendar: FullCalendar (a time grid with a column per practitioner or room)
// fed by /api/v1/appointments/; a side panel of server-rendered fragments (htmx) for one
// appointment or a booking; moves by drag-and-drop through the API, the server's refusal
// shown; and the booking form's patient search (also on the stand-alone booking page).
(() => {
  "use strict";

  const readJson = (id) => {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  };
  const config = readJson("calendar-config");
  const strings = readJson("calendar-strings") || {};
  const fmt = (text, values) =>
    String(text || "").replace(/%\((\w+)\)s/g, (_match, key) => values[key] ?? "");

  function csrfToken() {
    // base.html gives htmx the token; the cookie may be HttpOnly.
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch {
      const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
      return match ? decodeURIComponent(match[1]) : "";
    }
  }

  const debounce = (fn, ms) => {
    let timer;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  };

  // -- the booking form's patient search (works in fragments loaded later) -----------------

  function pickerParts(el) {
    const picker = el.closest("[data-patient-picker]");
    return picker && {
      picker,
      input: picker.querySelector("[data-patient-search]"),
      hidden: picker.querySelector("input[name=patient]"),
      list: picker.querySelector(".patient-results"),
      chosen: picker.querySelector("[data-patient-chosen]"),
    };
  }

  function closeResults(parts) {
    parts.list.replaceChildren();
    parts.input.setAttribute("aria-expanded", "false");
  }

  function choosePatient(parts, patient) {
    parts.hidden.value = patient.id;
    parts.input.value = patient.name;
    parts.input.classList.remove("is-invalid");
    parts.chosen.textContent = `✓ ${patient.name} · ${strings.born || "born"} ${patient.born}`;
    closeResults(parts);
    const form = parts.picker.closest("form");
    const course = form && form.querySelector("[data-course-link]");
    if (course) course.href = `${course.dataset.baseHref}?patient=${encodeURIComponent(patient.id)}`;
  }

  function resultItem(parts, patient) {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "list-group-item list-group-item-action py-1";
    item.setAttribute("role", "option");
    item.disabled = patient.is_active === false;
    const name = document.createElement("span");
    name.className = "fw-semibold";
    name.textContent = patient.full_name;
    const detail = document.createElement("small");
    detail.className = "text-muted ms-2";
    detail.textContent = [
      `${strings.born || "born"} ${patient.date_of_birth || "?"}`,
      patient.mobile_phone,
      patient.is_active === false ? strings.archived || "archived" : "",
    ]
      .filter(Boolean)
      .join(" · ");
    item.append(name, detail);
    item.addEventListener("click", () =>
      choosePatient(parts, {
        id: patient.id,
        name: patient.full_name,
        born: patient.date_of_birth || "?",
      }),
    );
    return item;
  }

  const searchPatients = debounce(async (input) => {
    const parts = pickerParts(input);
    const query = input.value.trim();
    if (query.length < 2) {
      closeResults(parts);
      return;
    }
    const url = `${parts.picker.dataset.searchUrl}?${new URLSearchParams({ search: query })}`;
    let results = [];
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) return;
      const body = await response.json();
      results = (body.results || body).slice(0, 8);
    } catch {
      return;
    }
    if (input.value.trim() !== query) return; // the user typed on; a newer search follows
    if (results.length) {
      parts.list.replaceChildren(...results.map((p) => resultItem(parts, p)));
    } else {
      const none = document.createElement("div");
      none.className = "list-group-item small text-muted py-1";
      none.textContent = strings.noPatients || "No patient found.";
      parts.list.replaceChildren(none);
    }
    input.setAttribute("aria-expanded", "true");
  }, 250);

  document.addEventListener("input", (event) => {
    if (!event.target.matches("[data-patient-search]")) return;
    const parts = pickerParts(event.target);
    parts.hidden.value = ""; // typing again unsets the patient picked before
    parts.chosen.textContent = "";
    searchPatients(event.target);
  });

  document.addEventListener("keydown", (event) => {
    const parts = event.target.closest && pickerParts(event.target);
    if (!parts) return;
    const options = [...parts.list.querySelectorAll("button:not(:disabled)")];
    const index = options.indexOf(event.target);
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      options[Math.min(index + 1, options.length - 1)].focus();
    } else if (event.key === "ArrowUp" && index >= 0) {
      event.preventDefault();
      (index === 0 ? parts.input : options[index - 1]).focus();
    } else if (event.key === "Escape") {
      closeResults(parts);
      parts.input.focus();
    } else if (event.key === "Enter" && event.target === parts.input) {
      event.preventDefault(); // Enter in the search box picks the first match, never submits
      if (options.length) options[0].click();
    }
  });

  if (!config) return;

  // -- the calendar ----------------------------------------------------------------------

  const OPEN = new Set(["booked", "confirmed"]);
  const SLOT_MINUTES = 15; // quarter-hour rows; a click books at the quarter clicked
  const STATUS_ICONS = {
    confirmed: "bi-check2",
    checked_in: "bi-person-check-fill",
    in_progress: "bi-hourglass-split",
    completed: "bi-check2-all",
    no_show: "bi-person-x-fill",
    cancelled: "bi-x-circle",
  };
  const el = document.getElementById("calendar");
  const panelEl = document.getElementById("calendar-panel");
  const panelBody = document.getElementById("calendar-panel-body");
  const panelTitle = document.getElementById("calendar-panel-title");
  const panel = bootstrap.Offcanvas.getOrCreateInstance(panelEl);
  const messages = document.getElementById("calendar-messages");
  const zone = config.location.timeZone;
  let mode = config.mode;
  let showCancelled = false;
  let busy = false; // dragging or saving: no background refresh

  const localTime = (iso) => String(iso).slice(11, 16);
  const whenText = (iso) =>
    luxon.DateTime.fromISO(iso, { zone }).toFormat("ccc d LLL, HH:mm");

  function textColour(hex) {
    const match = /^#?([0-9a-f]{6})$/i.exec(hex || "");
    if (!match) return "#ffffff";
    const n = parseInt(match[1], 16);
    const luminance = (0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
    return luminance > 0.6 ? "#1b1f24" : "#ffffff";
  }

  const resourceOf = (a) => (mode === "room" ? `r${a.room ?? 0}` : `p${a.practitioner}`);

  function sessionText(a) {
    return a.course && a.session_number
      ? fmt(strings.session, { k: a.session_number, n: a.sessions_in_course })
      : "";
  }

  function describe(a) {
    const session = sessionText(a);
    const lines = [
      `${localTime(a.start)}–${localTime(a.end)}  ${a.patient_name}`,
      [a.type_name, session].filter(Boolean).join(" · "),
      [a.practitioner_name, a.room_name].filter(Boolean).join(" · "),
      strings.statuses[a.status] || a.status,
    ];
    if (a.alerts.length) lines.push(`⚠ ${strings.alerts}: ${a.alerts.join("; ")}`);
    if (a.notes) lines.push(a.notes);
    return lines.join("\n");
  }

  function toEvent(a) {
    const colour = a.colour || "#0f5c6e";
    const session = sessionText(a);
    return {
      id: String(a.id),
      resourceId: resourceOf(a),
      start: a.start,
      end: a.end,
      title: session ? `${a.patient_name} · ${session}` : a.patient_name,
      backgroundColor: colour,
      borderColor: colour,
      textColor: textColour(colour),
      editable: OPEN.has(a.status),
      classNames: ["appt", `appt-${a.status}`, ...(a.alerts.length ? ["appt-has-alerts"] : [])],
      extendedProps: { appointment: a },
    };
  }

  function ensureResources(appointments) {
    // An appointment of someone no longer listed at the location still gets a column.
    for (const a of appointments) {
      const id = resourceOf(a);
      if (calendar.getResourceById(id)) continue;
      const title = mode === "room" ? a.room_name || strings.noRoom : a.practitioner_name;
      calendar.addResource({ id, title, order: 1000 });
    }
  }

  async function fetchEvents(info, success, failure) {
    const found = [];
    let url = `${config.urls.appointments}?${new URLSearchParams({
      start: info.startStr,
      end: info.endStr,
      location: config.location.id,
      page_size: 1000,
    })}`;
    try {
      while (url) {
        const response = await fetch(url, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (!response.ok) throw new Error(String(response.status));
        const body = await response.json();
        found.push(...body.results.filter((a) => showCancelled || a.status !== "cancelled"));
        url = body.next;
      }
    } catch (error) {
      showMessage("danger", strings.loadFailed);
      failure(error);
      return;
    }
    ensureResources(found);
    success(found.map(toEvent));
  }

  function icon(classes, label) {
    const i = document.createElement("i");
    i.className = `bi ${classes}`;
    if (label) {
      i.setAttribute("role", "img");
      i.setAttribute("aria-label", label);
    } else {
      i.setAttribute("aria-hidden", "true");
    }
    return i;
  }

  function renderEvent(arg) {
    const a = arg.event.extendedProps.appointment;
    if (!a) return true; // the outline of a slot being selected: FullCalendar's own rendering
    const root = document.createElement("div");
    root.className = "appt-body";
    const top = document.createElement("div");
    top.className = "appt-top";
    if (a.alerts.length) {
      top.append(icon("bi-exclamation-triangle-fill appt-alert-icon", `${strings.alerts}: ${a.alerts.join("; ")}`));
    }
    if (STATUS_ICONS[a.status]) {
      top.append(icon(`${STATUS_ICONS[a.status]} appt-status-icon`, strings.statuses[a.status]));
    }
    if (a.course && a.session_number) {
      const place = document.createElement("span");
      place.className = "appt-course";
      place.textContent = `${a.session_number}/${a.sessions_in_course}`;
      place.setAttribute("aria-hidden", "true"); // said in full in the line below
      top.prepend(place);
    }
    const name = document.createElement("span");
    name.className = "appt-patient";
    name.textContent = a.patient_name;
    top.append(name);
    const meta = document.createElement("div");
    meta.className = "appt-meta";
    meta.textContent = [arg.timeText, sessionText(a), a.type_name]
      .filter(Boolean)
      .join(" · ");
    root.append(top, meta);
    return { domNodes: [root] };
  }

  function eventDidMount(info) {
    const a = info.event.extendedProps.appointment;
    if (!a) return;
    info.el.title = describe(a);
    info.el.dataset.appointmentId = a.id;
    info.el.dataset.testid = "appointment";
    info.el.setAttribute("tabindex", "0");
    info.el.setAttribute("role", "button");
    info.el.setAttribute("aria-label", describe(a).replace(/\n/g, ". "));
    info.el.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        openAppointment(a.id);
      }
    });
  }

  // -- messages at the top of the calendar -----------------------------------------------

  function showMessage(kind, text, actions = []) {
    const box = document.createElement("div");
    box.className = `alert alert-${kind} d-flex flex-wrap align-items-center gap-2 py-2 mb-2 shadow-sm`;
    box.setAttribute("role", kind === "danger" ? "alert" : "status");
    box.dataset.testid = "calendar-message";
    box.append(icon(kind === "danger" ? "bi-x-octagon-fill" : "bi-check-circle-fill"));
    const body = document.createElement("span");
    body.className = "me-auto";
    body.textContent = text;
    box.append(body);
    for (const [label, handler] of actions) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `btn btn-sm ${kind === "danger" ? "btn-outline-danger" : "btn-outline-secondary"} bg-white`;
      button.textContent = label;
      button.addEventListener("click", () => {
        box.remove();
        handler();
      });
      box.append(button);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("aria-label", strings.close || "Close");
    close.addEventListener("click", () => box.remove());
    box.append(close);
    messages.replaceChildren(box);
    if (kind === "success") setTimeout(() => box.remove(), 8000);
  }

  // -- the side panel --------------------------------------------------------------------

  function openPanel(url, title) {
    messages.querySelectorAll(".alert-success").forEach((done) => done.remove());
    panelTitle.textContent = title;
    const loading = document.createElement("div");
    loading.className = "text-muted py-4 text-center";
    loading.textContent = strings.loading;
    panelBody.replaceChildren(loading);
    panel.show();
    return htmx.ajax("GET", url, { target: panelBody, swap: "innerHTML" });
  }

  const openAppointment = (id) =>
    openPanel(config.urls.panel.replace("/0/", `/${id}/`), strings.appointment);

  function openBooking(info) {
    const params = new URLSearchParams({ location: config.location.id });
    if (info) {
      params.set("start", info.startStr);
      if (info.resource) params.set("resource", info.resource.id);
      const minutes = Math.round((info.end - info.start) / 60000);
      if (minutes > SLOT_MINUTES) params.set("minutes", minutes);
    }
    openPanel(`${config.urls.book}?${params}`, strings.book);
  }

  panelEl.addEventListener("hidden.bs.offcanvas", () => calendar.unselect());

  // -- moving by drag-and-drop -----------------------------------------------------------

  function askShiftLater(a, start) {
    const modalEl = document.getElementById("shift-modal");
    const modal = bootstrap.Modal.getOrCreateInstance(modalEl);
    modalEl.querySelector("[data-shift-text]").textContent = fmt(strings.shift, {
      patient: a.patient_name,
      k: a.session_number,
      n: a.sessions_in_course,
      when: whenText(start),
    });
    return new Promise((resolve) => {
      let choice = null;
      const onClick = (event) => {
        const button = event.target.closest("[data-shift-choice]");
        if (!button) return;
        choice = button.dataset.shiftChoice;
        modal.hide();
      };
      modalEl.addEventListener("click", onClick);
      modalEl.addEventListener(
        "hidden.bs.modal",
        () => {
          modalEl.removeEventListener("click", onClick);
          resolve(choice);
        },
        { once: true },
      );
      modal.show();
    });
  }

  function firstFieldError(data) {
    for (const value of Object.values(data || {})) {
      if (Array.isArray(value) && value.length) return String(value[0]);
    }
    return "";
  }

  async function patch(info, body, retry = false) {
    const a = info.event.extendedProps.appointment;
    busy = true;
    el.classList.add("is-saving");
    let response;
    let data = {};
    try {
      response = await fetch(config.urls.appointment.replace("/0/", `/${a.id}/`), {
        method: "PATCH",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify(body),
      });
      data = await response.json().catch(() => ({}));
    } catch {
      response = { ok: false, status: 0 };
    } finally {
      busy = false;
      el.classList.remove("is-saving");
    }
    if (response.ok) {
      showMessage("success", fmt(strings.moved, { patient: a.patient_name, when: whenText(data.start) }));
      calendar.refetchEvents();
      return;
    }
    if (!retry) info.revert();
    const reason = data.detail || firstFieldError(data) || fmt(strings.failed, { status: response.status });
    const actions = [];
    if (data.conflict && data.conflict.id) {
      actions.push([strings.openClash, () => openAppointment(data.conflict.id)]);
    }
    // Outside working hours can be overridden by front desk (a clash cannot).
    if (data.outside_hours && !body.allow_outside_hours) {
      actions.push([strings.moveAnyway, () => patch(info, { ...body, allow_outside_hours: true }, true)]);
    }
    showMessage("danger", fmt(strings.notMoved, { reason }), actions);
  }

  async function onMove(info, dropped) {
    const a = info.event.extendedProps.appointment;
    let shiftLater = false;
    if (dropped && a.course && info.event.start.getTime() !== info.oldEvent.start.getTime()) {
      busy = true;
      const choice = await askShiftLater(a, info.event.startStr);
      busy = false;
      if (!choice) {
        info.revert();
        return;
      }
      shiftLater = choice === "later";
    }
    await patch(info, { start: info.event.startStr, end: info.event.endStr, shift_later: shiftLater });
  }

  // -- the calendar itself -----------------------------------------------------------------

  function syncUrl() {
    const params = new URLSearchParams(window.location.search);
    params.set("location", config.location.id);
    params.set("date", luxon.DateTime.fromJSDate(calendar.getDate(), { zone }).toISODate());
    params.set("view", calendar.view.type === "resourceTimeGridDay" ? "day" : "week");
    params.set("mode", mode);
    window.history.replaceState(null, "", `?${params}`);
  }

  // The grid fills the window below its top (scrolling inside), never less than 32 rem.
  function fittedHeight() {
    const top = el.getBoundingClientRect().top + window.scrollY;
    return Math.max(32 * 16, window.innerHeight - top - 16);
  }
  const refit = debounce(() => calendar.setOption("height", fittedHeight()), 150);

  const withOrder = (resources) => resources.map((r, order) => ({ ...r, order }));
  const hhmm = { hour: "2-digit", minute: "2-digit", hour12: false };

  const calendar = new FullCalendar.Calendar(el, {
    schedulerLicenseKey: "GPL-My-Project-Is-Open-Source",
    timeZone: zone,
    initialView: config.initialView,
    initialDate: config.initialDate,
    firstDay: 1,
    headerToolbar: {
      left: "prev,next today",
      center: "title",
      right: "resourceTimeGridDay,resourceTimeGridWeek",
    },
    buttonText: {
      today: strings.today || "Today",
      resourceTimeGridDay: strings.day || "Day",
      resourceTimeGridWeek: strings.week || "Week",
    },
    views: {
      resourceTimeGridWeek: { datesAboveResources: true, dayHeaderFormat: { weekday: "short", day: "numeric", month: "short" } },
      resourceTimeGridDay: {
        titleFormat: { weekday: "long", day: "numeric", month: "long", year: "numeric" },
      },
    },
    resources: withOrder(config.resources[mode]),
    resourceOrder: "order",
    allDaySlot: false,
    slotMinTime: config.slotMinTime,
    slotMaxTime: config.slotMaxTime,
    scrollTime: "08:00:00",
    slotDuration: `00:${SLOT_MINUTES}:00`,
    slotLabelInterval: "01:00",
    snapDuration: `00:${SLOT_MINUTES}:00`,
    slotLabelFormat: hhmm,
    eventTimeFormat: hhmm,
    nowIndicator: true,
    navLinks: true,
    height: fittedHeight(),
    expandRows: false,
    stickyHeaderDates: true,
    dayMinWidth: 72,
    editable: true,
    eventResourceEditable: false,
    eventDurationEditable: true,
    selectable: true,
    selectMirror: true,
    unselectAuto: false,
    eventMinHeight: 22,
    eventShortHeight: 34,
    events: fetchEvents,
    eventContent: renderEvent,
    eventDidMount,
    eventClick: (info) => {
      info.jsEvent.preventDefault();
      openAppointment(info.event.id);
    },
    select: openBooking,
    eventDragStart: () => {
      busy = true;
    },
    eventResizeStart: () => {
      busy = true;
    },
    eventDragStop: () => {
      busy = false;
    },
    eventResizeStop: () => {
      busy = false;
    },
    eventDrop: (info) => onMove(info, true),
    eventResize: (info) => onMove(info, false),
    datesSet: syncUrl,
    loading: (isLoading) => el.classList.toggle("is-loading", isLoading),
  });
  calendar.render();
  window.addEventListener("resize", refit);
  window.clinicCalendar = calendar; // for debugging and the browser tests

  document.querySelectorAll("input[name=calendar-mode]").forEach((radio) =>
    radio.addEventListener("change", () => {
      mode = radio.value;
      calendar.setOption("resources", withOrder(config.resources[mode]));
      calendar.refetchEvents();
      syncUrl();
    }),
  );

  // Another location: same day, view and columns.
  document.getElementById("calendar-location").addEventListener("change", (event) => {
    const params = new URLSearchParams(window.location.search);
    params.set("location", event.target.value);
    window.location.search = params.toString();
  });

  document.getElementById("show-cancelled").addEventListener("change", (event) => {
    showCancelled = event.target.checked;
    calendar.refetchEvents();
  });

  document.querySelector("[data-calendar-book]").addEventListener("click", (event) => {
    event.preventDefault();
    openBooking(null);
  });

  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-open-appointment]");
    if (!link) return;
    event.preventDefault();
    openAppointment(link.dataset.openAppointment);
  });

  // A booking, move or status change in the panel: the calendar shows it at once.
  document.body.addEventListener("calendar:changed", () => {
    calendar.unselect();
    calendar.refetchEvents();
  });

  // The panel's title follows what it shows (a booking becomes the appointment booked).
  panelBody.addEventListener("htmx:afterSettle", () => {
    const title = panelBody.querySelector("[data-panel-title]");
    if (title) panelTitle.textContent = title.dataset.panelTitle;
  });

  // The inbox polls; when what patients did online changes, so may the calendar.
  let inboxIds = document.getElementById("calendar-inbox")?.dataset.requestIds;
  document.body.addEventListener("htmx:afterSettle", () => {
    const ids = document.getElementById("calendar-inbox")?.dataset.requestIds;
    if (ids !== inboxIds) {
      inboxIds = ids;
      refit(); // the inbox above the calendar grew or shrank
      if (!busy) calendar.refetchEvents();
    }
  });

  // Other desks book and move too: refresh quietly every minute while the page is in view.
  setInterval(() => {
    if (!busy && !document.hidden) calendar.refetchEvents();
  }, 60_000);
})();
