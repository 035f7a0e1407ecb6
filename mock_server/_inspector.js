// The mock inspector: reads the admin API (/__mock__/...) every second and renders it. No framework.
// The admin API acts on the account of the credential sent (an API key or `Bearer <token>`); with the mock's
// admin token, any account (picked by id). Both stay in this tab's sessionStorage, never in the URL.
"use strict";
const state = { account: "", type: "", resources: [], journal: [] };
const $ = (id) => document.getElementById(id);
const saved = (name) => sessionStorage.getItem(`kdk-inspector-${name}`) || "";

function authorization(text) {
  const value = text.trim();
  if (!value) return "";
  if (/^(Bearer|Klaviyo-API-Key) /i.test(value)) return value;
  return "Klaviyo-API-Key " + value;
}

async function admin(method, path, body) {
  const token = saved("admin-token");
  const named = token && state.account ? `${path.includes("?") ? "&" : "?"}account=${encodeURIComponent(state.account)}` : "";
  const url = `/__mock__/${path}${named}`;
  const options = { method, headers: {} };
  const credential = authorization(saved("credential"));
  if (credential) options.headers["authorization"] = credential;
  if (token) options.headers["kdk-admin-token"] = token;
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  children.forEach((c) => node.append(c));
  return node;
}

function renderTypes() {
  const counts = {};
  state.resources.forEach((r) => { counts[r.type] = (counts[r.type] || 0) + 1; });
  const types = Object.keys(counts).sort();
  if (!types.includes(state.type)) state.type = types[0] || "";
  $("types").replaceChildren(...types.map((t) => {
    const li = el("li", { "data-type": t, class: t === state.type ? "selected" : "" }, `${t} (${counts[t]})`);
    li.onclick = () => { state.type = t; render(); };
    return li;
  }));
}

function refsOf(rel) {
  return Array.isArray(rel.data) ? rel.data : rel.data ? [rel.data] : [];
}

// Who points at each resource: a list's members are stored on the profiles (their `lists`), not on the list,
// so the list shows them from there ("profiles: profile ...").
function inverseRelationships(resources) {
  const inverse = {};
  resources.forEach((r) => {
    Object.values(r.relationships || {}).forEach((rel) => refsOf(rel).forEach((ref) => {
      const key = `${ref.type}-${ref.id}`;
      (inverse[key] = inverse[key] || []).push([`${r.type}s`, { type: r.type, id: r.id }]);
    }));
  });
  return inverse;
}

function relationshipList(relationships, pointing) {
  const items = [];
  const seen = new Set();
  const pairs = [];
  Object.entries(relationships || {}).forEach(([name, rel]) => refsOf(rel).forEach((ref) => pairs.push([name, ref])));
  const INVERSE_SHOWN = 100; // a metric of a demo account has thousands of events pointing at it
  (pointing || []).slice(0, INVERSE_SHOWN).forEach((pair) => pairs.push(pair));
  pairs.forEach(([name, ref]) => {
    const key = `${ref.type}-${ref.id}`;
    if (seen.has(key)) return;
    seen.add(key);
    const link = el("a", { href: `#${key}` }, `${ref.type} ${ref.id}`);
    link.onclick = () => { state.type = ref.type; render(); };
    items.push(el("li", {}, `${name}: `, link));
  });
  if ((pointing || []).length > INVERSE_SHOWN) items.push(el("li", {}, `… and ${pointing.length - INVERSE_SHOWN} more`));
  return items.length ? el("ul", { class: "relationships" }, ...items) : "";
}

function renderResources() {
  const inverse = inverseRelationships(state.resources);
  const shown = state.resources.filter((r) => r.type === state.type);
  $("resources-title").textContent = state.type ? `Resources: ${state.type}` : "Resources (none yet)";
  $("resources").replaceChildren(...shown.map((r) => el("div", { class: "resource", id: `${r.type}-${r.id}` },
    el("div", { class: "id" }, `${r.type} ${r.id}`),
    el("pre", {}, JSON.stringify(r.attributes, null, 1)),
    relationshipList(r.relationships, inverse[`${r.type}-${r.id}`]))));
}

function renderJournal() {
  const rows = state.journal.slice().reverse().map((entry) => {
    const status = entry.status === null || entry.status === undefined ? "" : String(entry.status);
    const time = (entry.time || "").replace("T", " ").slice(0, 19);
    const query = entry.query && Object.keys(entry.query).length ? "?" + new URLSearchParams(entry.query) : "";
    // An error's answer, as the client got it: the first detail in the row, every error on hover.
    const errors = Array.isArray(entry.errors) ? entry.errors : [];
    const detail = errors.map((e) => e.detail || e.title || e.code || "").filter(Boolean).join("; ");
    return el("tr", { class: "request" }, el("td", {}, time), el("td", {}, entry.method || ""),
      el("td", {}, (entry.path || "") + query), el("td", { class: "s" + status.charAt(0) }, status),
      el("td", { class: "error", title: errors.length ? JSON.stringify(errors, null, 1) : "" }, detail));
  });
  $("journal").replaceChildren(...rows);
}

function render() {
  renderTypes();
  renderResources();
  renderJournal();
}

async function refresh() {
  try {
    if (!saved("credential") && !saved("admin-token")) {
      $("status").textContent = "enter an API key (or an admin token)";
      return;
    }
    const accounts = await admin("GET", "accounts");
    if (accounts.status !== 200) {
      $("status").textContent = `${accounts.status}: ${((accounts.body.errors || [])[0] || {}).detail || ""}`;
      return;
    }
    $("accounts").replaceChildren(...(accounts.body.accounts || []).map((a) => el("option", { value: a })));
    if (!saved("admin-token")) state.account = (await admin("GET", "whoami")).body.account || "";
    $("account").value = state.account;
    if (!state.account) {
      $("status").textContent = "choose an account";
      return;
    }
    const [exported, journal] = await Promise.all([admin("GET", "state"), admin("GET", "journal?limit=200")]);
    state.resources = (exported.body.accounts || {})[state.account] || [];
    state.journal = journal.body.requests || [];
    $("status").textContent = `updated ${new Date().toLocaleTimeString()}`;
    render();
  } catch (error) {
    $("status").textContent = `cannot reach the mock: ${error}`;
  }
}

function setAccount(text) {
  state.account = text.trim();
  $("account").value = state.account;
  const url = new URL(location.href);
  url.searchParams.set("account", state.account);
  history.replaceState(null, "", url);
  refresh();
}

function remember(name, value) {
  sessionStorage.setItem(`kdk-inspector-${name}`, value.trim());
  refresh();
}

$("account").addEventListener("change", (event) => setAccount(event.target.value));
$("credential").addEventListener("change", (event) => remember("credential", event.target.value));
$("admin-token").addEventListener("change", (event) => remember("admin-token", event.target.value));
$("reset").addEventListener("click", async () => {
  if (!state.account) return;
  await admin("POST", "reset");
  refresh();
});
$("inbound").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await admin("POST", "inbound", {
    phone_number: form.get("phone_number"),
    body: form.get("body"),
    channel: form.get("channel"),
    consent: form.get("consent") === "on",
  });
  $("inbound-result").textContent = `${result.status} ${JSON.stringify(result.body)}`;
  refresh();
});

$("credential").value = saved("credential");
$("admin-token").value = saved("admin-token");
setAccount(new URLSearchParams(location.search).get("account") || "");
setInterval(refresh, 1000);
