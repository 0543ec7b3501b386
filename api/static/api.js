// Calls to the REST API with the session cookie; changes carry the page's CSRF token.
const csrf = document.querySelector('meta[name="csrf-token"]').content;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `request failed (${status})`);
    this.status = status;
    this.fields = body?.error?.fields || {};
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// One line a person can read: the message and, where given, which field it is about.
export function describe(error) {
  const fields = Object.entries(error.fields || {});
  if (!fields.length) return error.message;
  return fields.map(([field, message]) => `${field}: ${message}`).join("; ");
}
