// The emulator's workspace UI: reads location.hash (Databricks' `#job/<job>/run/<run>` and a few
// of its own), fetches JSON from the REST API with the session cookie, and builds the DOM with
// textContent only: no data ever goes through innerHTML.
"use strict";

(function () {
  const PREVIEW_BYTES = 64 * 1024;
  const TERMINAL = ["TERMINATED", "SKIPPED", "INTERNAL_ERROR"];
  const state = { session: null, timer: null, generation: 0 };

  const $ = (id) => document.getElementById(id);

  class HttpError extends Error {
    constructor(status, body) {
      super((body && (body.message || body.error)) || "HTTP " + status);
      this.status = status;
      this.errorCode = body && body.error_code;
    }
  }

  // ---- DOM helpers -------------------------------------------------------------------------
  function safeHref(value) {
    const text = String(value);
    return text.startsWith("#") || text.startsWith("/") ? text : "#";
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "href") node.setAttribute("href", safeHref(value));
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function render(...nodes) {
    $("view").replaceChildren(...nodes);
  }

  function table(id, headers, rows) {
    return el(
      "table",
      { id: id },
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { text: h })))),
      el("tbody", {}, rows)
    );
  }

  function pre(id, text, cls) {
    return el("pre", { id: id, class: cls || "block", text: text });
  }

  function badge(text) {
    return el("span", { class: "badge " + String(text || "NONE").replace(/[^A-Z_]/g, ""), text: text || "" });
  }

  function kv(pairs) {
    return el(
      "dl",
      { class: "kv" },
      pairs.filter((p) => p[1] !== undefined && p[1] !== null && p[1] !== "").map((p) => [
        el("dt", { text: p[0] }),
        el("dd", {}, p[1] instanceof Node ? p[1] : String(p[1])),
      ])
    );
  }

  function when(ms) {
    if (!ms) return "";
    return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
  }

  function duration(ms) {
    if (ms === undefined || ms === null) return "";
    if (ms < 1000) return ms + " ms";
    const s = Math.round(ms / 100) / 10;
    if (s < 60) return s + " s";
    return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  }

  function json(value) {
    return JSON.stringify(value, null, 2);
  }

  function errorBox(err) {
    return el("p", { class: "error", id: "error" }, err.errorCode ? err.errorCode + ": " : "", err.message);
  }

  function decodeHash() {
    const raw = location.hash.slice(1);
    try {
      return decodeURIComponent(raw);
    } catch (e) {
      return raw;
    }
  }

  function isTerminal(run) {
    return TERMINAL.includes(run.state && run.state.life_cycle_state);
  }

  function resultOf(item) {
    const st = item.state || {};
    return st.result_state || st.life_cycle_state || "";
  }

  // ---- the REST API with the session cookie ------------------------------------------------
  async function call(method, path, params) {
    let url = path;
    const init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method === "GET" && params) {
      url += "?" + new URLSearchParams(params).toString();
    } else if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRF-Token"] = state.session ? state.session.csrf_token : "";
      init.body = JSON.stringify(params || {});
    }
    const response = await fetch(url, init);
    let body = {};
    try {
      body = await response.json();
    } catch (e) {
      body = {};
    }
    if (response.status === 401) {
      showLogin();
      throw new HttpError(401, body);
    }
    if (!response.ok) throw new HttpError(response.status, body);
    return body;
  }

  // ---- sign in and out ---------------------------------------------------------------------
  function showLogin(message) {
    state.session = null;
    clearTimeout(state.timer);
    $("nav").hidden = true;
    $("logout").hidden = true;
    $("who").textContent = "";
    $("view").replaceChildren();
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("token").focus();
  }

  function showApp() {
    $("login").hidden = true;
    $("nav").hidden = false;
    $("logout").hidden = false;
    $("who").textContent = state.session.user_name + (state.session.is_admin ? " (admin)" : "");
  }

  async function loadSession() {
    state.session = await call("GET", "/ui/api/session");
    showApp();
    await route();
  }

  async function login(event) {
    event.preventDefault();
    const input = $("token");
    const response = await fetch("/ui/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: input.value }),
    });
    input.value = "";
    if (!response.ok) {
      let body = {};
      try {
        body = await response.json();
      } catch (e) {
        body = {};
      }
      $("login-error").textContent = "Sign-in failed: " + (body.message || "HTTP " + response.status);
      return;
    }
    await loadSession();
  }

  async function logout() {
    try {
      await call("POST", "/ui/logout", {});
    } finally {
      showLogin("Signed out.");
    }
  }

  // ---- pages -------------------------------------------------------------------------------
  async function route() {
    clearTimeout(state.timer);
    const generation = ++state.generation;
    const hash = decodeHash();
    let m;
    try {
      let nodes;
      if ((m = hash.match(/^job\/(\d+)\/run\/(\d+)$/))) nodes = await runPage(Number(m[1]), Number(m[2]));
      else if ((m = hash.match(/^job\/(\d+)$/))) nodes = await jobPage(Number(m[1]));
      else if (hash === "jobs") nodes = await jobsPage();
      else if (hash.startsWith("dbfs/")) nodes = await dbfsPage(hash.slice(4) || "/");
      else if (hash.startsWith("delta/")) nodes = await deltaPage(hash.slice(5));
      else if (hash === "secrets") nodes = await secretsPage();
      else nodes = await runsPage(hash.match(/^runs\/(.+)$/));
      if (generation === state.generation && state.session) render(...nodes);
    } catch (err) {
      if (err.status !== 401 && generation === state.generation) render(errorBox(err));
    }
  }

  function runRow(run) {
    const href = "#job/" + run.job_id + "/run/" + run.run_id;
    return el(
      "tr",
      { "data-run-id": run.run_id },
      el("td", {}, el("a", { href: href, text: run.run_id })),
      el("td", { text: run.run_name || "" }),
      el("td", {}, el("a", { href: "#job/" + run.job_id, text: run.job_id })),
      el("td", { text: run.run_type || "" }),
      el("td", {}, badge(resultOf(run))),
      el("td", { text: when(run.start_time) }),
      el("td", { text: duration(run.run_duration) })
    );
  }

  async function runsPage(tokenMatch) {
    const params = { limit: 25 };
    if (tokenMatch) params.page_token = tokenMatch[1];
    const page = await call("GET", "/api/2.2/jobs/runs/list", params);
    const runs = page.runs || [];
    const more = page.next_page_token
      ? el("a", { href: "#runs/" + encodeURIComponent(page.next_page_token), text: "Older runs" })
      : null;
    return [
      el("h1", { text: "Runs" }),
      runs.length
        ? table("runs-table", ["Run", "Name", "Job", "Type", "State", "Started", "Duration"], runs.map(runRow))
        : el("p", { text: "No runs this token may see." }),
      more,
    ];
  }

  async function jobsPage() {
    const page = await call("GET", "/api/2.2/jobs/list", { limit: 100 });
    const jobs = page.jobs || [];
    const rows = jobs.map((job) =>
      el(
        "tr",
        { "data-job-id": job.job_id },
        el("td", {}, el("a", { href: "#job/" + job.job_id, text: job.job_id })),
        el("td", { class: "job-name", text: (job.settings && job.settings.name) || "" }),
        el("td", { text: job.creator_user_name || "" }),
        el("td", { text: when(job.created_time) })
      )
    );
    return [
      el("h1", { text: "Jobs" }),
      jobs.length
        ? table("jobs-table", ["Job", "Name", "Creator", "Created"], rows)
        : el("p", { text: "No jobs this token may see." }),
    ];
  }

  async function jobPage(jobId) {
    const job = await call("GET", "/api/2.2/jobs/get", { job_id: jobId });
    const runs = (await call("GET", "/api/2.2/jobs/runs/list", { job_id: jobId, limit: 25 })).runs || [];
    const settings = job.settings || {};
    const tasks = (settings.tasks || []).map((t) =>
      el("li", {}, t.task_key, " ", el("span", { class: "muted", text: taskKind(t) }))
    );
    return [
      el("h1", { id: "job-title", text: settings.name || "Job " + jobId }),
      kv([
        ["Job ID", job.job_id],
        ["Creator", job.creator_user_name],
        ["Run as", job.run_as_user_name],
        ["Created", when(job.created_time)],
        ["Max concurrent runs", settings.max_concurrent_runs],
      ]),
      el("h2", { text: "Tasks" }),
      el("ul", {}, tasks),
      el("h2", { text: "Recent runs" }),
      runs.length
        ? table("runs-table", ["Run", "Name", "Job", "Type", "State", "Started", "Duration"], runs.map(runRow))
        : el("p", { text: "No runs yet." }),
      el("h2", { text: "Settings" }),
      pre("job-settings", json(settings)),
    ];
  }

  function taskKind(task) {
    const kind = Object.keys(task).find((k) => k.endsWith("_task"));
    if (!kind) return "";
    const spec = task[kind] || {};
    return kind + (spec.notebook_path ? " " + spec.notebook_path : spec.python_file ? " " + spec.python_file : "");
  }

  async function fetchRun(runId) {
    const run = await call("GET", "/api/2.2/jobs/runs/get", { run_id: runId, include_history: true });
    let page = run;
    for (let i = 0; i < 20 && page.next_page_token; i++) {
      page = await call("GET", "/api/2.2/jobs/runs/get", { run_id: runId, page_token: page.next_page_token });
      run.tasks = (run.tasks || []).concat(page.tasks || []);
    }
    return run;
  }

  async function runPage(jobId, runId) {
    let run = await fetchRun(runId);
    let focus = null;
    if (run.parent_run_id) {
      focus = runId; // a task run's page: the run it belongs to, with that task open
      run = await fetchRun(run.parent_run_id);
    }
    const tasks = (run.tasks || []).slice().sort((a, b) => (a.start_time || Infinity) - (b.start_time || Infinity));
    const nodes = [
      el("h1", { id: "run-title" }, run.run_name || "Run " + run.run_id, " ", badge(resultOf(run))),
      el("p", { class: "muted", id: "run-message", text: (run.state && run.state.state_message) || "" }),
      actions(run),
      kv([
        ["Run ID", run.run_id],
        ["Job", el("a", { href: "#job/" + run.job_id, text: run.job_id })],
        ["Type", run.run_type],
        ["Trigger", run.trigger],
        ["Run as", run.run_as_user_name || run.creator_user_name],
        ["Started", when(run.start_time)],
        ["Ended", when(run.end_time)],
        ["Duration", duration(run.run_duration)],
      ]),
      parameters(run),
      el("h2", { text: "Timeline" }),
      timeline(run, tasks, focus),
      el("section", { id: "task-detail" }),
    ];
    if (!isTerminal(run)) state.timer = setTimeout(route, 2000);
    const focused = tasks.find((t) => t.run_id === focus);
    if (focused) {
      const detail = await taskDetail(run, focused);
      nodes[nodes.length - 1].replaceChildren(...detail);
    }
    return nodes;
  }

  function parameters(run) {
    const rows = [];
    for (const p of run.job_parameters || []) {
      rows.push(el("tr", {}, el("td", { text: p.name }), el("td", { text: p.value !== undefined ? p.value : p.default })));
    }
    const overriding = run.overriding_parameters;
    if (!rows.length && !overriding) return null;
    return el(
      "div",
      { id: "run-parameters" },
      el("h2", { text: "Parameters" }),
      rows.length ? table("job-parameters", ["Name", "Value"], rows) : null,
      overriding ? pre("overriding-parameters", json(overriding)) : null
    );
  }

  function actions(run) {
    const result = run.state && run.state.result_state;
    const box = el("div", { class: "actions" });
    const say = el("span", { id: "action-message", class: "muted" });
    async function act(path, body, done) {
      try {
        await call("POST", path, body);
        say.textContent = done;
        state.timer = setTimeout(route, 500);
      } catch (err) {
        if (err.status !== 401) say.textContent = (err.errorCode ? err.errorCode + ": " : "") + err.message;
      }
    }
    if (!isTerminal(run)) {
      box.append(
        el("button", {
          id: "cancel-run",
          type: "button",
          text: "Cancel run",
          onclick: () => act("/api/2.2/jobs/runs/cancel", { run_id: run.run_id }, "Cancel requested."),
        })
      );
    } else if (result && result !== "SUCCESS") {
      box.append(
        el("button", {
          id: "repair-run",
          type: "button",
          text: "Repair run (failed tasks)",
          onclick: () =>
            act("/api/2.2/jobs/runs/repair", { run_id: run.run_id, rerun_all_failed_tasks: true }, "Repair started."),
        })
      );
    }
    box.append(say);
    return box;
  }

  function timeline(run, tasks, focus) {
    if (!tasks.length) return el("p", { text: "No tasks." });
    const now = Date.now();
    const starts = tasks.map((t) => t.start_time).filter(Boolean);
    const begin = starts.length ? Math.min(...starts) : run.start_time || now;
    const ends = tasks.map((t) => t.end_time || (t.start_time ? Math.max(now, t.start_time) : 0));
    const end = Math.max(begin + 1, ...ends, run.end_time || 0);
    const span = end - begin;
    const rows = tasks.map((t) => {
      const href = "#job/" + run.job_id + "/run/" + t.run_id;
      const bar = el("span", { class: "bar " + resultOf(t).replace(/[^A-Z_]/g, "") });
      if (t.start_time) {
        const stop = t.end_time || Math.max(now, t.start_time);
        bar.style.left = ((100 * (t.start_time - begin)) / span).toFixed(2) + "%";
        bar.style.width = Math.max(0.5, (100 * (stop - t.start_time)) / span).toFixed(2) + "%";
      } else {
        bar.hidden = true;
      }
      return el(
        "tr",
        { class: "task-row" + (t.run_id === focus ? " focus" : ""), "data-task-key": t.task_key, "data-run-id": t.run_id },
        el("td", {}, el("a", { href: href, class: "task-link", text: t.task_key + (t.attempt_number ? " #" + t.attempt_number : "") })),
        el("td", {}, badge(resultOf(t))),
        el("td", { text: when(t.start_time) }),
        el("td", { text: t.end_time ? when(t.end_time) : "" }),
        el("td", { text: t.start_time ? duration((t.end_time || now) - t.start_time) : "" }),
        el("td", { class: "track" }, bar)
      );
    });
    return table("timeline", ["Task", "State", "Start", "End", "Duration", "Timeline"], rows);
  }

  async function taskDetail(run, task) {
    const nodes = [
      el("h2", { id: "task-title" }, "Task ", task.task_key, " ", badge(resultOf(task))),
      kv([
        ["Task run ID", task.run_id],
        ["Attempt", task.attempt_number],
        ["What", taskKind(task)],
        ["Cluster", task.cluster_instance && task.cluster_instance.cluster_id],
        ["Message", task.state && task.state.state_message],
      ]),
    ];
    const kind = Object.keys(task).find((k) => k.endsWith("_task"));
    const spec = kind ? task[kind] || {} : {};
    const params = spec.base_parameters || spec.parameters || spec.named_parameters;
    if (params) nodes.push(el("h3", { text: "Task parameters" }), pre("task-parameters", json(params)));
    let output;
    try {
      output = await call("GET", "/api/2.2/jobs/runs/get-output", { run_id: task.run_id });
    } catch (err) {
      if (err.status === 401) throw err;
      nodes.push(errorBox(err));
      return nodes;
    }
    const notebook = output.notebook_output;
    nodes.push(el("h3", { text: "Output (dbutils.notebook.exit)" }));
    if (notebook && notebook.result !== undefined) {
      nodes.push(pre("task-output", notebook.result + (notebook.truncated ? "\n… (truncated)" : "")));
    } else {
      nodes.push(el("p", { id: "task-output", class: "muted", text: "No notebook output." }));
    }
    if (output.error) nodes.push(el("h3", { text: "Error" }), pre("task-error", output.error, "block error"));
    if (output.error_trace) nodes.push(el("h3", { text: "Trace" }), pre("task-trace", output.error_trace));
    nodes.push(el("h3", { text: "Logs (stdout and stderr)" }));
    if (output.logs) {
      nodes.push(pre("task-logs", (output.logs_truncated ? "… (earlier lines cut)\n" : "") + output.logs));
    } else {
      nodes.push(el("p", { id: "task-logs", class: "muted", text: "No log output." }));
    }
    return nodes;
  }

  // ---- DBFS and Delta ------------------------------------------------------------------------
  function dbfsHref(path) {
    return "#dbfs" + encodeURI(path);
  }

  function crumbs(path, prefix) {
    const parts = path.split("/").filter(Boolean);
    const links = [el("a", { href: dbfsHref("/"), text: "dbfs:" })];
    let acc = "";
    for (const part of parts) {
      acc += "/" + part;
      links.push(" / ", el("a", { href: dbfsHref(acc), text: part }));
    }
    return el("p", { class: "crumbs" }, prefix || "", links);
  }

  async function dbfsPage(path) {
    const status = await call("GET", "/api/2.0/dbfs/get-status", { path: path });
    if (!status.is_dir) return filePreview(path, status);
    const files = (await call("GET", "/api/2.0/dbfs/list", { path: path })).files || [];
    const isDelta = files.some((f) => f.is_dir && f.path.endsWith("/_delta_log"));
    const rows = files.map((f) => {
      const name = f.path.split("/").pop();
      const dirDelta = f.is_dir ? el("a", { href: "#delta" + encodeURI(f.path), class: "muted", text: "Delta view" }) : null;
      return el(
        "tr",
        { "data-path": f.path },
        el("td", {}, el("a", { href: dbfsHref(f.path), text: name + (f.is_dir ? "/" : "") })),
        el("td", { text: f.is_dir ? "" : f.file_size }),
        el("td", { text: when(f.modification_time) }),
        el("td", {}, name !== "_delta_log" ? dirDelta : null)
      );
    });
    return [
      el("h1", { text: "DBFS" }),
      crumbs(path),
      isDelta
        ? el("p", { class: "delta-hint" }, "This folder is a Delta table: ", el("a", { id: "open-delta", href: "#delta" + encodeURI(path), text: "open the table view" }))
        : null,
      files.length ? table("dbfs-table", ["Name", "Size", "Modified", ""], rows) : el("p", { text: "Empty folder." }),
    ];
  }

  function decodePreview(data) {
    const binary = atob(data || "");
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    if (bytes.includes(0)) return null;
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true });
    } catch (e) {
      return null;
    }
  }

  async function filePreview(path, status) {
    const read = await call("GET", "/api/2.0/dbfs/read", { path: path, offset: 0, length: PREVIEW_BYTES });
    const text = decodePreview(read.data);
    const size = status.file_size || 0;
    return [
      el("h1", { text: path.split("/").pop() }),
      crumbs(path),
      kv([
        ["Size", size + " bytes"],
        ["Modified", when(status.modification_time)],
      ]),
      text === null
        ? el("p", { id: "dbfs-preview", class: "muted", text: "Binary file (" + size + " bytes): not shown." })
        : pre("dbfs-preview", text + (size > PREVIEW_BYTES ? "\n… (first " + PREVIEW_BYTES / 1024 + " KB of " + size + " bytes)" : "")),
    ];
  }

  async function deltaPage(path) {
    const table_ = await call("GET", "/ui/api/delta", { path: path, rows: 50 });
    const schemaRows = table_.schema.map((f) =>
      el("tr", {}, el("td", { text: f.name }), el("td", { text: f.type }), el("td", { text: f.nullable ? "yes" : "no" }))
    );
    const historyRows = table_.history.map((h) =>
      el(
        "tr",
        {},
        el("td", { text: h.version }),
        el("td", { text: when(h.timestamp) }),
        el("td", { text: h.operation || "" }),
        el("td", {}, el("code", { text: JSON.stringify(h.parameters) })),
        el("td", {}, el("code", { text: JSON.stringify(h.metrics) }))
      )
    );
    const cell = (v) => (v === null ? el("td", { class: "muted", text: "null" }) : el("td", { text: typeof v === "object" ? JSON.stringify(v) : v }));
    const dataRows = table_.rows.map((row) => el("tr", {}, row.map(cell)));
    return [
      el("h1", { id: "delta-title", text: "Delta table " + path }),
      crumbs(path),
      kv([
        ["Version", table_.version],
        ["Files", table_.num_files],
        ["Partition columns", table_.partition_columns.join(", ")],
        ["Name", table_.name],
        ["Description", table_.description],
      ]),
      el("h2", { text: "Schema" }),
      table("delta-schema", ["Column", "Type", "Nullable"], schemaRows),
      el("h2", { text: "First rows" }),
      table_.rows.length ? table("delta-rows", table_.columns, dataRows) : el("p", { id: "delta-rows", text: "No rows." }),
      el("h2", { text: "History" }),
      table("delta-history", ["Version", "Time", "Operation", "Parameters", "Metrics"], historyRows),
    ];
  }

  // ---- secrets: scopes and keys, never values -------------------------------------------------
  async function secretsPage() {
    const scopes = (await call("GET", "/api/2.0/secrets/scopes/list")).scopes || [];
    const sections = [];
    for (const scope of scopes) {
      let body;
      try {
        const keys = (await call("GET", "/api/2.0/secrets/list", { scope: scope.name })).secrets || [];
        body = keys.length
          ? table(null, ["Key", "Last updated"], keys.map((k) => el("tr", {}, el("td", { class: "secret-key", text: k.key }), el("td", { text: when(k.last_updated_timestamp) }))))
          : el("p", { class: "muted", text: "No secrets." });
      } catch (err) {
        if (err.status === 401) throw err;
        body = el("p", { class: "muted no-access", text: err.status === 403 ? "This token may not list its keys." : err.message });
      }
      sections.push(el("section", { class: "scope", "data-scope": scope.name }, el("h2", { text: scope.name }), body));
    }
    return [
      el("h1", { text: "Secret scopes" }),
      el("p", { class: "muted", text: "Keys only: secret values are never shown here." }),
      el("div", { id: "secrets" }, sections.length ? sections : el("p", { text: "No secret scopes." })),
    ];
  }

  // ---- start ----------------------------------------------------------------------------------
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  window.addEventListener("hashchange", () => {
    if (state.session) route();
  });
  loadSession().catch((err) => {
    if (err.status !== 401) showLogin(err.message);
  });
})();
