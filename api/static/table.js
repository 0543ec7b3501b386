// The table view: rows from the REST API (session cookie), live cell changes from the events
// stream. Cells show their state; a filled cell's title shows its provenance.
const database = JSON.parse(document.getElementById("database-data").textContent);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const table = document.getElementById("table");
const body = table.querySelector("tbody");
const props = database.properties;

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    ...options,
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, ...(options.headers || {}) },
  });
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) throw Object.assign(new Error(data?.error?.message || response.statusText), { data });
  return data;
}

function shown(value) {
  if (value === null || value === undefined) return "";
  return Array.isArray(value) ? value.join(", ") : String(value);
}

function provenance(cell) {
  if (cell.status === "error") return cell.error || "error";
  const p = cell.provenance;
  if (!p) return cell.status;
  return [
    `model ${p.model}`, `prompt ${p.prompt_version}`, `tokens ${p.tokens_in} in / ${p.tokens_out} out`,
    `cost $${(p.cost_usd ?? 0).toFixed(6)}`, p.truncated ? "page truncated" : "whole page", `filled ${p.filled_at}`,
  ].join("\n");
}

function renderCell(td, cell) {
  td.dataset.status = cell.status;
  td.textContent = cell.value === null || cell.value === undefined ? cell.status : shown(cell.value);
  td.title = provenance(cell);
  td.setAttribute("aria-label", `${cell.status}: ${td.textContent}`);
}

function renderRow(row) {
  const tr = document.createElement("tr");
  tr.dataset.row = row.id;
  for (const prop of props) {
    const td = document.createElement("td");
    td.dataset.property = prop.id;
    if (prop.type === "ai") {
      td.className = "cell";
      const cell = row.cells[prop.name];
      if (cell) renderCell(td, cell);
    } else {
      td.textContent = shown(row.properties[prop.name]);
    }
    tr.appendChild(td);
  }
  return tr;
}

async function load() {
  const rows = [];
  let cursor = null;
  do {
    const page = await api(`/v1/databases/${database.id}/rows?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
    rows.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  body.replaceChildren(...rows.map(renderRow));
}

function listen() {
  const source = new EventSource(`/v1/databases/${database.id}/events`);
  source.addEventListener("cell", (message) => {
    const event = JSON.parse(message.data);
    const td = body.querySelector(`tr[data-row="${event.row_id}"] td[data-property="${event.property_id}"]`);
    if (!td) { load(); return; }  // a row this view has not seen yet
    renderCell(td, {
      status: event.status, value: event.value, error: event.error,
      provenance: event.filled_at ? {
        model: event.model, prompt_version: event.prompt_version, tokens_in: event.tokens_in,
        tokens_out: event.tokens_out, cost_usd: event.cost_usd, truncated: event.truncated,
        filled_at: event.filled_at,
      } : null,
    });
  });
}

load().then(listen).catch((error) => {
  body.innerHTML = "";
  const tr = body.insertRow();
  const td = tr.insertCell();
  td.colSpan = props.length;
  td.className = "error";
  td.textContent = `Could not load the rows: ${error.message}`;
});
