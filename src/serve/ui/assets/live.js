// keyflow's live updates: follows the server-sent events named by #live's data-events and patches the
// page by the attributes the server draws (data-step, data-run, data-status). Every piece of markup it
// puts in comes whole from the server, drawn and escaped by the page's own code; the script only says
// which piece goes where. Written by hand: a few dozen lines, nothing to build or vendor.
"use strict";
(function () {
  const live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  // The same symbols as the server's badges (src/serve/ui/html.rs, `symbol`): status is never colour alone.
  const SYMBOL = {"pending": "○", "running": "▶", "succeeded": "✓", "failed": "✗", "skipped": "↷", "cancelled": "⊘", "interrupted": "⚠"};
  const say = (text, state) => { live.textContent = text; live.className = "live " + state; };
  const parse = (html) => {
    const t = document.createElement("template");
    t.innerHTML = html;
    return t.content.firstElementChild;
  };
  const by = (selector, key) => {
    const found = new Map();
    for (const el of document.querySelectorAll(selector)) found.set(el.dataset[key], el);
    return found;
  };
  // A new <details> keeps the open or closed state the reader gave the old one (and its nested ones).
  const swap = (old, next) => {
    const was = [old, ...old.querySelectorAll("details")];
    const now = [next, ...next.querySelectorAll("details")];
    now.forEach((d, i) => { if (was[i]) d.open = was[i].open; });
    old.replaceWith(next);
  };
  const events = new EventSource(live.dataset.events);
  events.onopen = () => say("live: this page follows the run store", "on");
  events.onerror = () => events.readyState === EventSource.CLOSED
    ? say("disconnected: reload the page to see what changed", "off")
    : say("reconnecting…", "off");
  events.addEventListener("unavailable", () => say("the run store does not answer: retrying", "off"));
  events.addEventListener("update", (e) => {
    const data = JSON.parse(e.data);
    const html = data.html || {};
    const header = document.getElementById("run-header");
    if (html.header && header) header.replaceWith(parse(html.header));
    const timeline = document.getElementById("timeline");
    if (html.timeline && timeline) timeline.innerHTML = html.timeline;
    const nodes = by("g.node", "step");
    for (const [id, status] of Object.entries(data.steps || {})) {
      const node = nodes.get(id);
      if (!node) continue;
      node.dataset.status = status;
      const label = node.querySelector("text.state");
      if (label) label.textContent = (SYMBOL[status] || "?") + " " + status;
      const title = node.querySelector("title");
      if (title) title.textContent = title.textContent.replace(/: \w+$/, ": " + status);
    }
    const details = by("details.step", "step");
    for (const [id, markup] of Object.entries(html.steps || {})) {
      const old = details.get(id);
      if (old) swap(old, parse(markup));
    }
    if (data.ended) {
      events.close();
      say("the run ended: this page shows its record", "done");
    } else {
      say("live: this page follows the run store", "on");
    }
  });
  events.addEventListener("runs", (e) => {
    const data = JSON.parse(e.data);
    const body = document.querySelector("#runs tbody");
    if (!body) return;
    const rows = by("#runs tbody tr", "run");
    const keep = new Set(data.order);
    for (const [id, row] of rows) if (!keep.has(id)) row.remove();
    for (const id of data.order) {
      const markup = data.rows[id];
      let row = rows.get(id);
      if (markup) {
        const next = parse(markup);
        if (row) row.replaceWith(next);
        row = next;
      }
      if (row) body.appendChild(row);
    }
    const none = document.getElementById("no-runs");
    if (none) none.hidden = data.order.length > 0;
    say("live: this list follows the run store", "on");
  });
})();
