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
    result.themes.forEach(function (t) {
      var box = el("section", null, { "class": "theme" });
      box.appendChild(el("h3", t.label + " (" + t.size + ")"));
      box.appendChild(el("p", "Keywords: " + t.keywords.join(", ")));
      if (t.by_group) { box.appendChild(el("p", "By group: " + t.by_group, { "class": "by-group" })); }
      t.quotes.forEach(function (q, i) {
        var quote = el("blockquote", q), n = (t.quote_counts || [])[i];
        if (n > 1) { quote.appendChild(el("small", " (" + n + " answers in these words)")); }
        box.appendChild(quote);
      });
      target.appendChild(box);
    });
    if (result.non_answers_note) { target.appendChild(el("p", result.non_answers_note, { "class": "note", id: "themes-said-nothing" })); }
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

  document.addEventListener("DOMContentLoaded", function () {
    var said = document.querySelector("[data-focus]") || document.querySelector('main [aria-invalid="true"]');
    if (said) { said.focus(); }
  });
}());
