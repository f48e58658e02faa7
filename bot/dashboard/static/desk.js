// Long jobs (exports, themes): start one, poll its progress, then offer the result.
// After a form is sent, the page it returns moves focus to what it says (a notice, the problems found,
// or the first field in error), so keyboard and screen-reader users hear it without hunting for it.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function showThemes(target, result) {
    target.replaceChildren();
    if (!result.themes.length) { target.appendChild(el("p", result.note || "No themes found.")); }
    if (result.comments !== undefined) { target.appendChild(el("p", "Read " + result.answers + (result.answers === 1 ? " answer" : " answers") + " and " + result.comments + (result.comments === 1 ? " comment" : " comments") + ".", { "class": "note", id: "themes-read-comments" })); }
    if (result.languages_note) { target.appendChild(el("p", result.languages_note, { "class": "note", id: "themes-languages" })); }
    result.themes.forEach(function (t) {
      var box = el("section", null, { "class": "theme" });
      box.appendChild(el("h3", t.label + " (" + t.size + (t.comments ? ", of which " + t.comments + (t.comments === 1 ? " comment" : " comments") : "") + ")"));
      box.appendChild(el("p", "Keywords: " + t.keywords.join(", ")));
      if (t.by_group) { box.appendChild(el("p", "By group: " + t.by_group, { "class": "by-group" })); }
      t.quotes.forEach(function (q, i) {
        var quote = el("blockquote", q), n = (t.quote_counts || [])[i];
        if (n > 1) { quote.appendChild(el("small", " (" + n + " answers in these words)")); }
        if ((t.quote_sources || [])[i] === "comment") { quote.appendChild(el("small", " (a comment, told at a question that takes no free text)", { "class": "quote-source" })); }
        box.appendChild(quote);
      });
      target.appendChild(box);
    });
    if (result.non_answers_note) { target.appendChild(el("p", result.non_answers_note, { "class": "note", id: "themes-said-nothing" })); }
    if (result.held_back_note) { target.appendChild(el("p", result.held_back_note + ".", { "class": "note", id: "themes-held-back" })); }
  }

  function finish(job, target) {
    if (job.download) {
      target.replaceChildren(el("a", "Download " + job.kind, { href: job.download, download: "", id: target.id + "-download" }));
    } else if (job.result && job.kind === "themes") {
      showThemes(target, job.result);
    }
  }

  // A refused request (403, 404, 500) is said in the job's status line rather than polled for ever.
  function json(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      if (!response.ok) { throw new Error(typeof body.detail === "string" ? body.detail : response.statusText); }
      return body;
    });
  }

  function failed(name, what) {
    return function (error) { document.getElementById(name + "-message").textContent = what + ": " + error.message; };
  }

  function poll(id, name, target) {
    var bar = document.getElementById(name + "-progress"), message = document.getElementById(name + "-message");
    fetch("/api/v1/jobs/" + id, { credentials: "same-origin" }).then(json).then(function (job) {
      bar.hidden = false; bar.value = job.progress; message.textContent = Math.round(job.progress * 100) + "%: " + job.message;
      if (job.status === "done") { finish(job, target); }
      else if (job.status === "failed") { message.textContent = "Failed: " + job.error; }
      else { setTimeout(function () { poll(id, name, target); }, 300); }
    }).catch(failed(name, "Could not follow the job"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.job");
    if (!button) return;
    var name = button.dataset.target, target = document.getElementById(name);
    target.replaceChildren();
    fetch(button.dataset.start, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: button.dataset.body || "{}"
    }).then(json).then(function (job) { poll(job.id, name, target); }).catch(failed(name, "Could not start"));
  });

  // On a phone a table's rows become cards, each cell named by its column's header (CSS below
  // 600 px), so the page never scrolls sideways. The roles keep them a table to screen readers,
  // which some browsers forget once a table's parts are no longer displayed as one.
  function stackTable(table) {
    var names = [];
    table.querySelectorAll("thead tr:last-child > th").forEach(function (th) {
      for (var n = 0; n < th.colSpan; n++) { names.push(th.textContent.replace(/\s+/g, " ").trim()); }
    });
    if (!names.length || table.querySelectorAll("thead tr").length !== 1) return;
    table.setAttribute("role", "table");
    table.querySelectorAll(":scope > thead, :scope > tbody, :scope > tfoot").forEach(function (g) { g.setAttribute("role", "rowgroup"); });
    table.querySelectorAll("tr").forEach(function (tr) {
      tr.setAttribute("role", "row");
      var column = 0;
      Array.prototype.forEach.call(tr.cells, function (cell) {
        var header = cell.tagName === "TH";
        cell.setAttribute("role", header ? (tr.parentNode.tagName === "THEAD" ? "columnheader" : "rowheader") : "cell");
        if (!header && cell.colSpan === 1 && names[column]) { cell.setAttribute("data-label", names[column]); }
        column += cell.colSpan;
      });
    });
    table.classList.add("stacks");
  }

  document.addEventListener("DOMContentLoaded", function () {
    // (a table in a .scrolls region stays a table, scrolling sideways inside it: a count week by week reads down its columns)
    document.querySelectorAll("main table.data").forEach(function (table) { if (!table.closest(".scrolls")) { stackTable(table); } });
    var said = document.querySelector("[data-focus]") || document.querySelector('main [aria-invalid="true"]');
    if (said) { said.focus(); }
  });
}());
