// The table view: rows from the REST API (session cookie), AI cells kept current by the events
// stream, properties and pages edited in place. Every change goes through the same API a
// script would call, so the page cannot do anything the API would refuse.
import { api, describe } from "./api.js";
import { openCell, refreshCell } from "./cell_dialog.js";
import { openFill } from "./fill_dialog.js";
import { cellFromEvent, editorFor, shown } from "./values.js";

const database = JSON.parse(document.getElementById("database-data").textContent);
const props = database.properties;
const titleProp = props.find((p) => p.type === "title");
const body = document.querySelector("#table tbody");
const live = document.getElementById("live");
const problem = document.getElementById("problem");
const rows = new Map();  // row id → row as the API gives it

export function report(error) {
  problem.textContent = error ? (typeof error === "string" ? error : describe(error)) : "";
  problem.hidden = !error;
}

function statusText(cell) {
  return { pending: "Filling…", empty: "Empty", stale: "Out of date", error: "Error" }[cell.status] || "";
}

function renderAiCell(td, row, prop) {
  const cell = row.cells[prop.name] || { status: "empty", value: null };
  td.dataset.status = cell.status;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "ai-cell";
  const value = shown(cell.value);
  if (cell.status === "error") {
    // The reason, short, in the cell itself: no click needed to learn why it failed.
    const reason = (cell.error || "the fill failed").split("\n")[0];
    button.textContent = `Error: ${reason.length > 80 ? reason.slice(0, 79) + "…" : reason}`;
  } else {
    button.textContent = value || statusText(cell) || "—";
  }
  const model = cell.provenance?.model || "";
  if (model.startsWith("sim:") && !String(value).startsWith("[sim]")) {
    // A select's or a number's value cannot carry the simulator's "[sim]": mark it here.
    const mark = document.createElement("span");
    mark.className = "sim-mark";
    mark.textContent = "sim";
    mark.title = "Answered by the LLM simulator, not a real model";
    button.prepend(mark, " ");
  }
  if (cell.status === "error") button.title = cell.error || "The fill failed";
  else if (cell.status === "filled" && cell.provenance) {
    const p = cell.provenance;
    button.title = `${p.model} · prompt ${p.prompt_version} · ${p.tokens_in}+${p.tokens_out} tokens · $${(p.cost_usd ?? 0).toFixed(6)}${p.truncated ? " · page truncated" : ""} · ${new Date(p.filled_at).toLocaleString()}`;
  } else if (cell.status === "overridden") button.title = "Written by a person: the AI leaves it alone";
  const state = cell.status === "filled" ? "filled by AI" : cell.status === "overridden" ? "written by a person" : statusText(cell).toLowerCase();
  button.setAttribute("aria-label", `${prop.name}: ${value || "no value"} (${state}). Open details`);
  button.addEventListener("click", () => openCell({ database, row: rows.get(row.id), prop, onRow: renderRow }));
  td.replaceChildren(button);
  td.setAttribute("aria-busy", String(cell.status === "pending"));
}

function renderValueCell(td, row, prop) {
  const value = row.properties[prop.name];
  if (prop.type === "checkbox") {
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = value === true;
    box.setAttribute("aria-label", `${prop.name} of ${rowLabel(row)}`);
    box.addEventListener("change", () => save(row.id, prop, box.checked, td));
    td.replaceChildren(box);
    return;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "value-cell";
  button.textContent = shown(value) || "\u00a0";
  button.setAttribute("aria-label", `Edit ${prop.name} of ${rowLabel(row)}: ${shown(value) || "empty"}`);
  button.addEventListener("click", () => editInline(td, rows.get(row.id), prop));
  td.replaceChildren(button);
}

function rowLabel(row) {
  return (titleProp && row.properties[titleProp.name]) || "untitled row";
}

function editInline(td, row, prop) {
  const editor = editorFor(prop.type, prop.options, row.properties[prop.name], `${prop.name} of ${rowLabel(row)}`);
  let done = false;
  const finish = (commit) => {
    if (done) return;
    done = true;
    if (commit) save(row.id, prop, editor.read(), td);
    else { renderValueCell(td, row, prop); td.querySelector("button")?.focus(); }
  };
  editor.element.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); finish(false); }
    if (event.key === "Enter" && !editor.element.multiple) { event.preventDefault(); finish(true); }
  });
  editor.element.addEventListener("blur", () => finish(true));
  td.replaceChildren(editor.element);
  editor.focus();
}

async function save(rowId, prop, value, td) {
  const row = rows.get(rowId);
  if (JSON.stringify(row.properties[prop.name] ?? null) === JSON.stringify(value ?? null)) {
    renderValueCell(td, row, prop);  // unchanged: no write, no fill
    return;
  }
  td.setAttribute("aria-busy", "true");
  try {
    const updated = await api(`/v1/rows/${rowId}`, { method: "PATCH", body: { properties: { [prop.id]: value } } });
    report(null);
    renderRow(updated);
  } catch (error) {
    report(error);
    renderValueCell(td, row, prop);
  } finally {
    td.removeAttribute("aria-busy");
    body.querySelector(`tr[data-row="${rowId}"] td[data-property="${prop.id}"] button`)?.focus();
  }
}

function pageButton(row) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "page-button";
  button.textContent = "Page";
  button.setAttribute("aria-label", `Open the page of ${rowLabel(row)}`);
  button.addEventListener("click", () => openPage(rows.get(row.id)));
  return button;
}

export function renderRow(row) {
  rows.set(row.id, row);
  let tr = body.querySelector(`tr[data-row="${row.id}"]`);
  const fresh = !tr;
  if (fresh) { tr = document.createElement("tr"); tr.dataset.row = row.id; }
  const cells = [];
  const head = document.createElement("td");
  head.className = "row-head";
  head.append(pageButton(row));
  cells.push(head);
  for (const prop of props) {
    const td = document.createElement("td");
    td.dataset.property = prop.id;
    if (prop.type === "ai") { td.className = "cell"; renderAiCell(td, row, prop); }
    else renderValueCell(td, row, prop);
    cells.push(td);
  }
  tr.replaceChildren(...cells);
  if (fresh) body.append(tr);
  return tr;
}

// The page dialog: a new row (title and content in one write, so one fill), or a page's content.
const pageDialog = document.getElementById("page-dialog");
const pageForm = document.getElementById("page-form");
const pageError = document.getElementById("page-error");
let editing = null;  // the row whose page is open; null for a new row

function openPage(row) {
  editing = row;
  document.getElementById("page-title").textContent = row ? rowLabel(row) : "New row";
  document.getElementById("page-title-field").hidden = Boolean(row) || !titleProp;
  document.getElementById("page-title-input").value = "";
  document.getElementById("page-content").value = row ? row.content : "";
  pageError.hidden = true;
  pageDialog.showModal();
  (row || !titleProp ? document.getElementById("page-content") : document.getElementById("page-title-input")).focus();
}

pageForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const content = document.getElementById("page-content").value;
  try {
    let saved;
    if (editing) {
      saved = editing.content === content ? editing
        : await api(`/v1/rows/${editing.id}`, { method: "PATCH", body: { content } });
    } else {
      const title = document.getElementById("page-title-input").value.trim();
      const properties = titleProp && title ? { [titleProp.id]: title } : {};
      saved = await api(`/v1/databases/${database.id}/rows`, { method: "POST", body: { properties, content } });
    }
    renderRow(saved);
    pageDialog.close();
    report(null);
    body.querySelector(`tr[data-row="${saved.id}"] .page-button`)?.focus();
  } catch (error) {
    pageError.textContent = describe(error);
    pageError.hidden = false;
  }
});

for (const button of document.querySelectorAll("dialog .close-dialog")) {
  button.addEventListener("click", () => button.closest("dialog").close());
}
document.getElementById("add-row").addEventListener("click", () => openPage(null));
for (const button of document.querySelectorAll(".fill-column")) {
  const prop = props.find((p) => p.id === button.dataset.property);
  button.addEventListener("click", () => openFill({ prop }));
}

async function load() {
  const items = [];
  let cursor = null;
  do {
    const page = await api(`/v1/databases/${database.id}/rows?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  body.replaceChildren();
  rows.clear();
  for (const row of items) renderRow(row);
  if (!items.length) {
    const td = body.insertRow().insertCell();
    td.colSpan = props.length + 1;
    td.className = "muted empty-table";
    td.textContent = "No rows yet: add one.";
  }
}

let reloading = null;
function reloadSoon() {
  reloading ??= setTimeout(() => { reloading = null; load().catch(report); }, 300);
}

function listen() {
  // From the position the page was rendered at: changes made while the rows loaded are
  // replayed, in order, so the table ends in the latest state.
  const after = document.getElementById("table").dataset.eventsAfter;
  const source = new EventSource(`/v1/databases/${database.id}/events?after=${after}`);
  source.addEventListener("open", () => { live.textContent = "Live: cells update as they fill."; });
  source.addEventListener("error", () => { live.textContent = "Reconnecting to live updates…"; });
  source.addEventListener("cell", (message) => {
    const event = JSON.parse(message.data);
    const row = rows.get(event.row_id);
    const prop = props.find((p) => p.id === event.property_id);
    if (!prop) { location.reload(); return; }  // a column added elsewhere: redraw the header
    if (!row) { reloadSoon(); return; }  // a row this view has not seen yet
    row.cells[prop.name] = cellFromEvent(event, row.cells[prop.name]);
    const td = body.querySelector(`tr[data-row="${event.row_id}"] td[data-property="${event.property_id}"]`);
    const hadFocus = td?.contains(document.activeElement);
    if (td) renderAiCell(td, row, prop);
    if (hadFocus) td.querySelector("button")?.focus();
    refreshCell(row, prop);
  });
}

load().then(listen).catch((error) => {
  body.replaceChildren();
  const td = body.insertRow().insertCell();
  td.colSpan = props.length + 1;
  td.className = "error";
  td.textContent = `Could not load the rows: ${describe(error)}`;
});
