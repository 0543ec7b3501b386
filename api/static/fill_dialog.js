// "Fill column": the dry-run estimate for the chosen cells, a confirmation, then the run's
// progress until it ends; the run can be cancelled while it goes.
import { api, describe } from "./api.js";

const dialog = document.getElementById("fill-dialog");
const scope = document.getElementById("fill-scope");
const estimateText = document.getElementById("fill-estimate");
const startButton = document.getElementById("fill-start");
const cancelButton = document.getElementById("fill-cancel");
const progressBox = document.getElementById("fill-progress-box");
const progress = document.getElementById("fill-progress");
const progressText = document.getElementById("fill-progress-text");
const errorBox = document.getElementById("fill-error");
let prop = null;
let run = null;
let timer = null;

const money = (usd) => `$${usd < 0.01 ? usd.toFixed(4) : usd.toFixed(2)}`;
const count = (n) => n.toLocaleString();

function fail(error) {
  errorBox.textContent = describe(error);
  errorBox.hidden = false;
}

async function estimate() {
  startButton.disabled = true;
  errorBox.hidden = true;
  estimateText.textContent = "Estimating…";
  try {
    const e = await api(`/v1/properties/${prop.id}/fill`, { method: "POST", body: { scope: scope.value, dry_run: true } });
    if (!e.rows) {
      estimateText.textContent = "Nothing to fill: no cell matches.";
      return;
    }
    const notes = [];
    if (e.overridden) notes.push(`${count(e.overridden)} written by a person are left out`);
    if (e.unfillable) notes.push(`${count(e.unfillable)} too large to fill`);
    const estimated = e.input_tokens_source === "estimate" ? " (estimated)" : "";
    estimateText.textContent = `${count(e.rows)} cells · about ${count(e.input_tokens)} input${estimated} and ${count(e.output_tokens)} output tokens · about ${money(e.cost_usd)} (at most ${money(e.max_cost_usd)})${notes.length ? ` · ${notes.join(", ")}` : ""}. Start the fill?`;
    startButton.disabled = false;
  } catch (error) {
    estimateText.textContent = "";
    fail(error);
  }
}

function showRun() {
  const settled = run.done + run.failed + run.skipped;
  progress.max = Math.max(run.total, 1);
  progress.value = settled;
  const tail = `${count(run.done)} filled, ${count(run.failed)} failed, ${count(run.skipped)} already up to date · ${count(run.model_calls)} model calls · ${money(run.cost_usd)}`;
  if (run.state === "running") {
    progressText.textContent = `${count(settled)} of ${count(run.total)} · ${tail}`;
  } else {
    progressText.textContent = `${run.state === "cancelled" ? "Cancelled" : "Done"}: ${tail}.`;
    cancelButton.hidden = true;
    scope.disabled = false;
    clearInterval(timer);
    timer = null;
  }
}

async function poll() {
  try {
    run = await api(`/v1/runs/${run.id}`);
    showRun();
  } catch (error) {
    fail(error);
  }
}

startButton.addEventListener("click", async () => {
  startButton.disabled = true;
  try {
    run = await api(`/v1/properties/${prop.id}/fill`, { method: "POST", body: { scope: scope.value } });
    estimateText.textContent = "";
    progressBox.hidden = false;
    cancelButton.hidden = false;
    scope.disabled = true;
    showRun();
    if (run.state === "running") timer = setInterval(poll, 500);
    cancelButton.focus();
  } catch (error) {
    fail(error);
  }
});

cancelButton.addEventListener("click", async () => {
  try {
    run = await api(`/v1/runs/${run.id}`, { method: "DELETE" });
    showRun();
  } catch (error) {
    fail(error);
  }
});

scope.addEventListener("change", estimate);
dialog.addEventListener("close", () => { clearInterval(timer); timer = null; });

export function openFill({ prop: chosen }) {
  prop = chosen;
  run = null;
  document.getElementById("fill-title").textContent = `Fill “${prop.name}”`;
  progressBox.hidden = true;
  cancelButton.hidden = true;
  scope.disabled = false;
  scope.value = "empty";
  dialog.showModal();
  scope.focus();
  estimate();
}
