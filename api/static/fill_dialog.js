// "Fill column": the dry-run estimate for the chosen cells, now or in economy (the provider's
// batch API, at its batch price), a confirmation, then the run's progress until it ends; the
// run can be cancelled while it goes.
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
const modeInputs = [...document.querySelectorAll('input[name="fill-mode"]')];
const nowCost = document.getElementById("fill-now-cost");
const economyCost = document.getElementById("fill-economy-cost");
let prop = null;
let run = null;
let timer = null;

const money = (usd) => `$${usd < 0.01 ? usd.toFixed(4) : usd.toFixed(2)}`;
const count = (n) => n.toLocaleString();

const chosenMode = () => modeInputs.find((input) => input.checked).value;
const hours = (h) => (h < 1 ? `${Math.max(Math.round(h * 60), 1)} min` : `${h} h`);

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
    nowCost.textContent = `— about ${money(e.cost_usd)}, done in minutes`;
    const economy = modeInputs.find((input) => input.value === "economy");
    if (e.economy) {
      economy.disabled = false;
      economyCost.textContent = `— about ${money(e.economy.cost_usd)} (${Math.round(e.economy.discount * 100)} % off), usually within ${hours(e.economy.typical_hours)}, at most ${hours(e.economy.window_hours)}`;
    } else {
      economy.disabled = true;
      if (economy.checked) modeInputs[0].checked = true;
      economyCost.textContent = `— ${e.economy_unavailable}`;
    }
    const cost = chosenMode() === "economy" ? e.economy.cost_usd : e.cost_usd;
    const most = chosenMode() === "economy" ? e.economy.max_cost_usd : e.max_cost_usd;
    estimateText.textContent = `${count(e.rows)} cells · about ${count(e.input_tokens)} input${estimated} and ${count(e.output_tokens)} output tokens · about ${money(cost)} (at most ${money(most)})${notes.length ? ` · ${notes.join(", ")}` : ""}. Start the fill?`;
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
  let tail = `${count(run.done)} filled, ${count(run.failed)} failed, ${count(run.skipped)} already up to date · ${count(run.model_calls)} model calls · ${money(run.cost_usd)}`;
  if (run.batch) {
    const b = run.batch;
    tail += ` · at the provider: ${count(b.submitted)} submitted, ${count(b.in_provider_queue)} in its queue${b.preparing ? `, ${count(b.preparing)} being prepared` : ""}`;
  }
  if (run.state === "running") {
    progressText.textContent = `${count(settled)} of ${count(run.total)} · ${tail}`;
  } else {
    progressText.textContent = `${run.state === "cancelled" ? "Cancelled" : "Done"}: ${tail}.`;
    cancelButton.hidden = true;
    scope.disabled = false;
    modeInputs.forEach((input) => { input.disabled = false; });
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
    run = await api(`/v1/properties/${prop.id}/fill`, { method: "POST", body: { scope: scope.value, mode: chosenMode() } });
    estimateText.textContent = "";
    progressBox.hidden = false;
    cancelButton.hidden = false;
    scope.disabled = true;
    modeInputs.forEach((input) => { input.disabled = true; });
    showRun();
    // An economy run moves as its batches do: minutes apart, not half-seconds.
    if (run.state === "running") timer = setInterval(poll, run.mode === "economy" ? 5000 : 500);
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
modeInputs.forEach((input) => input.addEventListener("change", estimate));
dialog.addEventListener("close", () => { clearInterval(timer); timer = null; });

export function openFill({ prop: chosen }) {
  prop = chosen;
  run = null;
  document.getElementById("fill-title").textContent = `Fill “${prop.name}”`;
  progressBox.hidden = true;
  cancelButton.hidden = true;
  scope.disabled = false;
  scope.value = "empty";
  modeInputs[0].checked = true;
  dialog.showModal();
  scope.focus();
  estimate();
}
