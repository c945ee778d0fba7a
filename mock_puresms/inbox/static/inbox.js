// The inbox's script: every action is a call of the control surface (/_mock), the same
// calls a test makes; the message list follows /_mock/events. Data from the server is
// only ever set as text (textContent), never parsed as HTML.
(function () {
  "use strict";

  const COOKIE = "mock_puresms_admin";
  const pageData = readJson("inbox-data") || {};
  let today = (pageData.now || "").slice(0, 10);

  function readJson(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function adminToken() {
    for (const part of document.cookie.split(";")) {
      const [name, ...rest] = part.trim().split("=");
      if (name === COOKIE) return decodeURIComponent(rest.join("="));
    }
    return null;
  }

  class ControlError extends Error {
    constructor(status, problem) {
      super(describeProblem(status, problem));
      this.status = status;
      this.problem = problem;
    }
  }

  function describeProblem(status, problem) {
    if (!problem) return "The mock answered " + status + ".";
    const parts = [problem.detail || problem.title || "The mock answered " + status + "."];
    for (const [field, messages] of Object.entries(problem.errors || {})) {
      parts.push(field + ": " + messages.join(" "));
    }
    return parts.join(" ");
  }

  // One call of the control surface: JSON in and out, the admin token as a Bearer header.
  async function control(method, path, body, contentType) {
    const headers = {};
    const token = adminToken();
    if (token) headers.Authorization = "Bearer " + token;
    let payload;
    if (body !== undefined) {
      headers["Content-Type"] = contentType || "application/json";
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    const response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
    let answer = null;
    try {
      answer = await response.json();
    } catch (ignored) {
      answer = null;
    }
    if (!response.ok) throw new ControlError(response.status, answer);
    return answer;
  }

  function notify(text, kind) {
    const notice = document.getElementById("notice");
    if (!notice) return;
    notice.textContent = text;
    notice.dataset.kind = kind || "info";
  }

  // Run an action from a button: errors are shown, pages that are not live reload after.
  function act(button, work, reload) {
    return async function (event) {
      if (event) event.preventDefault();
      if (button) button.disabled = true;
      try {
        const done = await work();
        if (done !== false && reload && pageData.reloadOnChange) {
          window.location.reload();
          return;
        }
      } catch (error) {
        notify(error.message, "error");
      } finally {
        if (button) button.disabled = false;
      }
    };
  }

  // ---- times on the mock clock (UTC) --------------------------------------------------

  function clockText(iso) {
    if (!iso) return "";
    const date = iso.slice(0, 10);
    const time = iso.slice(11, 19);
    return date === today ? time : date + " " + time;
  }

  function showClock(iso) {
    today = iso.slice(0, 10);
    const element = document.getElementById("clock-now");
    if (element) element.textContent = iso.slice(0, 10) + " " + iso.slice(11, 23) + " UTC";
  }

  function advance(seconds) {
    return control("POST", "/_mock/clock/advance", { seconds }).then((clock) => {
      showClock(clock.now);
      notify("Advanced the clock by " + seconds + " s.", "ok");
    });
  }

  // ---- wiring of every action ----------------------------------------------------------

  function wire() {
    if (!adminToken()) {
      for (const element of document.querySelectorAll("[data-token-only]")) element.hidden = true;
    }
    for (const button of document.querySelectorAll("[data-advance]")) {
      button.addEventListener("click", act(button, () => advance(Number(button.dataset.advance)), true));
    }
    const custom = document.getElementById("advance-custom-button");
    if (custom) {
      custom.addEventListener(
        "click",
        act(custom, () => {
          const input = document.getElementById("advance-custom");
          const seconds = Number(input.value);
          if (!input.value || !(seconds >= 0)) {
            notify("Enter how many seconds to advance.", "error");
            return Promise.resolve(false);
          }
          return advance(seconds);
        }, true),
      );
    }
    for (const button of document.querySelectorAll("[data-reset]")) {
      const account = button.dataset.reset;
      const label = button.textContent;
      let armed = null;
      button.addEventListener("click", async () => {
        // Two clicks: forgetting everything by accident is worse than one more click.
        if (!armed) {
          button.textContent = "Click again to confirm";
          armed = setTimeout(() => { button.textContent = label; armed = null; }, 4000);
          return;
        }
        clearTimeout(armed);
        armed = null;
        button.textContent = label;
        const path = "/_mock/reset" + (account ? "?account=" + encodeURIComponent(account) : "");
        await act(button, () => control("POST", path), false)();
        window.location.assign(window.location.pathname === "/" ? "/" : window.location.href);
      });
    }
    const force = document.getElementById("force-status");
    if (force) {
      const button = force.querySelector("button");
      force.addEventListener("submit", act(button, () => {
        const status = force.elements.deliveryStatus.value;
        return control("POST", "/_mock/messages/" + encodeURIComponent(force.dataset.reference) + "/status", { deliveryStatus: status });
      }, true));
    }
    const cancel = document.getElementById("cancel");
    if (cancel) {
      cancel.addEventListener("click", act(cancel, () =>
        control("POST", "/_mock/messages/" + encodeURIComponent(cancel.dataset.reference) + "/cancel"), true));
    }
    const reply = document.getElementById("reply");
    if (reply) {
      const button = reply.querySelector("button");
      reply.addEventListener("submit", act(button, () => control("POST", "/_mock/replies", {
        from: reply.dataset.from,
        to: reply.dataset.to,
        account: reply.dataset.account,
        content: reply.elements.content.value,
      }), true));
    }
    for (const button of document.querySelectorAll("[data-replay]")) {
      button.addEventListener("click", act(button, () =>
        control("POST", "/_mock/webhooks/" + encodeURIComponent(button.dataset.replay) + "/replay"), true));
    }
    for (const button of document.querySelectorAll("[data-enable-account]")) {
      const path = "/_mock/accounts/" + encodeURIComponent(button.dataset.enableAccount) +
        "/endpoints/" + encodeURIComponent(button.dataset.enableIndex) + "/enable";
      button.addEventListener("click", act(button, () => control("POST", path), true));
    }
    const shipped = document.getElementById("scenario-shipped");
    if (shipped) {
      shipped.addEventListener("submit", act(shipped.querySelector("button"), () =>
        control("PUT", "/_mock/scenario?name=" + encodeURIComponent(shipped.elements.name.value)), true));
    }
    const pasted = document.getElementById("scenario-yaml");
    if (pasted) {
      const errors = document.getElementById("scenario-errors");
      pasted.addEventListener("submit", act(pasted.querySelector("button"), async () => {
        errors.replaceChildren();
        errors.hidden = true;
        try {
          await control("PUT", "/_mock/scenario", pasted.elements.source.value, "application/yaml");
        } catch (error) {
          if (!(error instanceof ControlError) || !error.problem || !error.problem.errors) throw error;
          // One line per mistake: "line 4: ..." as the mock words it, under its path.
          for (const [path, messages] of Object.entries(error.problem.errors)) {
            for (const message of messages) {
              const item = document.createElement("li");
              const where = document.createElement("code");
              where.textContent = path;
              item.append(where, " " + message);
              errors.append(item);
            }
          }
          errors.hidden = false;
          notify("The scenario has mistakes; the active one stays.", "error");
          return false;
        }
        return true;
      }, true));
    }
    const list = readJson("list-data");
    if (list && list.live) follow(list);
  }

  // ---- the live message list -----------------------------------------------------------

  const API_NAMES = { v1: "v1", connect: "Connect" };

  function matches(filters, message) {
    if (filters.account && message.account !== filters.account) return false;
    if (filters.status !== null && filters.status !== undefined && message.deliveryStatus !== filters.status) return false;
    if (filters.api && message.api !== filters.api) return false;
    if (filters.batch && message.batchReference !== filters.batch) return false;
    if (filters.q) {
      const needle = filters.q.trim().toLowerCase();
      if (!message.to.includes(needle) && !message.content.toLowerCase().includes(needle)) return false;
    }
    return true;
  }

  function cell(className, text, title) {
    const td = document.createElement("td");
    td.className = className;
    td.textContent = text;
    if (title) td.title = title;
    return td;
  }

  function badge(status, name) {
    const span = document.createElement("span");
    span.className = "badge status-" + name.toLowerCase();
    span.textContent = name;
    span.dataset.code = String(status);
    return span;
  }

  function row(message) {
    const tr = document.createElement("tr");
    tr.dataset.reference = message.reference;
    tr.className = "fresh";
    const content = document.createElement("td");
    content.className = "content";
    const link = document.createElement("a");
    link.href = "/messages/" + encodeURIComponent(message.reference);
    link.title = message.content;
    link.textContent = message.content.length > 80 ? message.content.slice(0, 79) + "…" : message.content;
    content.append(link);
    const status = document.createElement("td");
    status.className = "status";
    status.append(badge(message.deliveryStatus, message.deliveryStatusName));
    tr.append(
      cell("time", clockText(message.createdAt), message.createdAt),
      cell("account", (pageData.accounts || {})[message.account] || message.account),
      cell("api", API_NAMES[message.api] || message.api || "v1"),
      cell("to", message.to),
      cell("from", message.from),
      content,
      cell("parts", message.segments + " · " + message.encoding),
      status,
    );
    return tr;
  }

  function follow(list) {
    const tbody = document.getElementById("messages");
    const live = document.getElementById("live");
    const counter = document.getElementById("new-count");
    const rows = new Map();
    for (const tr of tbody.rows) rows.set(tr.dataset.reference, tr);
    let created = [];
    const statuses = new Map();
    let fresh = 0;
    let scheduled = false;

    // Events are applied in batches: at 200 messages a second the page redraws a few
    // times a second, not once per message.
    function flush() {
      scheduled = false;
      if (created.length) {
        const fragment = document.createDocumentFragment();
        const newest = created.reverse().slice(0, list.pageSize);
        for (const message of newest) {
          const tr = row(message);
          rows.set(message.reference, tr);
          fragment.append(tr);
        }
        tbody.prepend(fragment);
        while (tbody.rows.length > list.pageSize) {
          const last = tbody.rows[tbody.rows.length - 1];
          rows.delete(last.dataset.reference);
          last.remove();
        }
        fresh += created.length;
        created = [];
        counter.textContent = fresh + " new since this page opened";
        counter.dataset.count = String(fresh);
        document.getElementById("empty").hidden = true;
      }
      for (const [reference, change] of statuses) {
        const tr = rows.get(reference);
        if (!tr) continue;
        const status = tr.querySelector(".status");
        status.replaceChildren(badge(change.deliveryStatus, change.deliveryStatusName));
      }
      statuses.clear();
    }

    function later() {
      if (!scheduled) {
        scheduled = true;
        setTimeout(flush, 50);
      }
    }

    const source = new EventSource("/_mock/events");
    source.addEventListener("open", () => {
      live.dataset.state = "live";
      live.textContent = "live";
    });
    source.addEventListener("error", () => {
      live.dataset.state = "offline";
      live.textContent = "reconnecting…";
    });
    source.addEventListener("message.created", (event) => {
      const message = JSON.parse(event.data);
      if (!matches(list.filters, message)) return;
      created.push(message);
      later();
    });
    source.addEventListener("message.status", (event) => {
      const change = JSON.parse(event.data);
      const pending = created.find((m) => m.reference === change.reference);
      if (pending) {
        pending.deliveryStatus = change.deliveryStatus;
        pending.deliveryStatusName = change.deliveryStatusName;
      } else {
        statuses.set(change.reference, change);
      }
      later();
    });
    source.addEventListener("overflow", () => window.location.reload());
    source.addEventListener("shutdown", () => {
      source.close();
      live.dataset.state = "offline";
      live.textContent = "the mock has stopped";
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
