// The AI column form: show only the fields the chosen task and output use, offer only the
// outputs the task can produce (the server checks the same rules), and put the focus where the
// person needs to look next: the first field in error, or the prompt preview.
const form = document.getElementById("column-form");
const task = form.querySelector("#task");
const output = form.querySelector("#output_type");
const TASK_OUTPUTS = {
  summary: ["text"], translate: ["text"], classify: ["select", "multi_select"],
  key_info: ["text", "multi_select"], custom: ["text", "select", "multi_select", "number", "date", "checkbox"],
};

function sync() {
  const allowed = TASK_OUTPUTS[task.value] || [];
  for (const option of output.options) option.disabled = !allowed.includes(option.value);
  if (!allowed.includes(output.value)) output.value = allowed[0];
  for (const field of form.querySelectorAll("[data-for-tasks]")) {
    field.hidden = !field.dataset.forTasks.split(" ").includes(task.value);
  }
  for (const field of form.querySelectorAll("[data-for-outputs]")) {
    field.hidden = !field.dataset.forOutputs.split(" ").includes(output.value);
  }
}

task.addEventListener("change", sync);
output.addEventListener("change", sync);
sync();

const invalid = form.querySelector('[aria-invalid="true"]');
const preview = document.getElementById("preview-title");
if (invalid) {
  invalid.closest("[hidden]")?.removeAttribute("hidden");  // never hide the field in error
  invalid.focus();
} else if (preview) {
  preview.focus();
}
