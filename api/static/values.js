// Showing values and editing them, by property type (the same types the API validates).

export function shown(value) {
  if (value === null || value === undefined || value === "") return "";
  if (Array.isArray(value)) return value.join(", ");
  if (value === true) return "✓";
  if (value === false) return "✗";
  return String(value);
}

// An editor for a value of `kind`: { element, focus(), read() }. read() gives the API's value
// (null clears). `label` names the control for screen readers.
export function editorFor(kind, options, value, label) {
  let element;
  if (kind === "select") {
    element = document.createElement("select");
    element.append(new Option("(none)", ""));
    for (const option of options || []) element.append(new Option(option, option, false, option === value));
  } else if (kind === "multi_select") {
    element = document.createElement("select");
    element.multiple = true;
    element.size = Math.min(6, (options || []).length || 1);
    const chosen = new Set(Array.isArray(value) ? value : []);
    for (const option of options || []) element.append(new Option(option, option, false, chosen.has(option)));
  } else if (kind === "checkbox") {
    element = document.createElement("input");
    element.type = "checkbox";
    element.checked = value === true;
  } else if (kind === "text" && label.startsWith("Your value")) {
    element = document.createElement("textarea");
    element.rows = 4;
    element.value = value ?? "";
  } else {
    element = document.createElement("input");
    element.type = { number: "number", date: "date", url: "url" }[kind] || "text";
    if (kind === "number") element.step = "any";
    element.value = value === null || value === undefined ? "" : String(value).slice(0, kind === "date" ? 10 : undefined);
  }
  element.setAttribute("aria-label", label);
  element.className = "editor";
  return {
    element,
    focus: () => element.focus(),
    read() {
      if (kind === "checkbox") return element.checked;
      if (kind === "multi_select") return [...element.selectedOptions].map((option) => option.value);
      const text = element.value.trim();
      if (text === "") return null;
      if (kind === "number") return Number(text);
      return kind === "text" || kind === "title" ? element.value : text;
    },
  };
}

// What a filled cell's provenance says, as [label, text] pairs.
export function provenance(cell) {
  const p = cell.provenance;
  if (!p || !p.filled_at) return [];
  return [
    ["Model", p.model],
    ["Prompt version", p.prompt_version],
    ["Tokens", `${p.tokens_in ?? 0} in, ${p.tokens_out ?? 0} out`],
    ["Cost", `$${(p.cost_usd ?? 0).toFixed(6)}`],
    ["Page", p.truncated ? "truncated to fit the model's window" : "read whole"],
    ["Filled", new Date(p.filled_at).toLocaleString()],
  ];
}

// An events-stream message as the cell shape the rows API gives.
export function cellFromEvent(event, previous) {
  return {
    ...previous,
    status: event.status,
    value: event.value,
    error: event.error,
    error_code: event.error_code,
    written_by: event.status === "overridden" ? "person" : event.filled_at ? "ai" : previous?.written_by || "nobody",
    provenance: event.filled_at ? {
      model: event.model, prompt_version: event.prompt_version, tokens_in: event.tokens_in,
      tokens_out: event.tokens_out, cost_usd: event.cost_usd, truncated: event.truncated,
      filled_at: event.filled_at,
    } : null,
  };
}
