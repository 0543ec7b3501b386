// An AI cell's details: its state and provenance or error, writing it by hand (override) and
// giving it back to the AI (reset), filling it again, and rating the answer.
import { api, describe } from "./api.js";
import { editorFor, provenance, shown } from "./values.js";

const dialog = document.getElementById("cell-dialog");
const errorBox = document.getElementById("cell-error");
const overrideForm = document.getElementById("override-form");
const feedbackForm = document.getElementById("feedback-form");
const resetButton = document.getElementById("reset-cell");
const refillButton = document.getElementById("refill-cell");
const sendButton = document.getElementById("feedback-send");
let open = null;  // { row, prop, editor, onRow }
let rating = null;

const STATES = {
  empty: "Empty: not filled yet.",
  pending: "Filling… the answer appears here when it is ready.",
  filled: "Filled by the AI.",
  error: "The fill failed.",
  stale: "Out of date: the row changed since this was filled.",
  overridden: "Written by a person: the AI leaves it alone.",
};

function cellOf(row, prop) {
  return row.cells[prop.name] || { status: "empty", value: null, written_by: "nobody" };
}

function show() {
  const { row, prop } = open;
  const cell = cellOf(row, prop);
  document.getElementById("cell-title").textContent = prop.name;
  document.getElementById("cell-state").textContent = STATES[cell.status] || cell.status;
  const valueBox = document.getElementById("cell-value");
  valueBox.textContent = cell.status === "error" ? (cell.error || "") : shown(cell.value);
  valueBox.classList.toggle("error", cell.status === "error");
  const list = document.getElementById("cell-provenance");
  list.replaceChildren();
  for (const [label, text] of cell.status === "filled" ? provenance(cell) : []) {
    const dt = document.createElement("dt"); dt.textContent = label;
    const dd = document.createElement("dd"); dd.textContent = text;
    list.append(dt, dd);
  }
  resetButton.hidden = cell.status !== "overridden";
  refillButton.hidden = cell.status === "overridden" || cell.status === "pending";
  feedbackForm.hidden = cell.written_by !== "ai" || cell.status === "pending";
}

export function openCell({ row, prop, onRow }) {
  const cell = cellOf(row, prop);
  const editor = editorFor(prop.ai.output.type, prop.ai.output.options, cell.value, `Your value for ${prop.name}`);
  document.getElementById("override-editor").replaceChildren(editor.element);
  open = { row, prop, editor, onRow };
  rating = null;
  for (const thumb of feedbackForm.querySelectorAll(".thumb")) thumb.setAttribute("aria-pressed", "false");
  document.getElementById("feedback-comment").value = "";
  document.getElementById("feedback-share").checked = false;
  document.getElementById("feedback-done").textContent = "";
  sendButton.disabled = true;
  errorBox.hidden = true;
  show();
  dialog.showModal();
}

// Called by the table when an event changes a cell: keep an open dialog current.
export function refreshCell(row, prop) {
  if (open && dialog.open && open.row.id === row.id && open.prop.id === prop.id) {
    open.row = row;
    show();
  }
}

async function act(path, options) {
  try {
    const cell = await api(path, options);
    errorBox.hidden = true;
    open.row.cells[open.prop.name] = cell;
    open.onRow(open.row);
    show();
    return cell;
  } catch (error) {
    errorBox.textContent = describe(error);
    errorBox.hidden = false;
    return null;
  }
}

const cellPath = () => `/v1/rows/${open.row.id}/cells/${open.prop.id}`;

overrideForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (await act(cellPath(), { method: "PUT", body: { value: open.editor.read() } })) dialog.close();
});
resetButton.addEventListener("click", () => act(cellPath(), { method: "DELETE" }));
refillButton.addEventListener("click", () => act(`${cellPath()}/fill`, { method: "POST" }));

for (const thumb of feedbackForm.querySelectorAll(".thumb")) {
  thumb.addEventListener("click", () => {
    rating = thumb.dataset.rating;
    for (const other of feedbackForm.querySelectorAll(".thumb")) other.setAttribute("aria-pressed", String(other === thumb));
    sendButton.disabled = false;
  });
}

feedbackForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!rating) return;
  const comment = document.getElementById("feedback-comment").value.trim();
  const share = document.getElementById("feedback-share").checked;
  try {
    await api(`${cellPath()}/feedback`, { method: "POST", body: { rating, comment: comment || null, share } });
    document.getElementById("feedback-done").textContent = share
      ? "Thank you: shared with the prompt team." : "Thank you for the feedback.";
    sendButton.disabled = true;
  } catch (error) {
    errorBox.textContent = describe(error);
    errorBox.hidden = false;
  }
});
