// The Report dialog (templates/moderation/report_dialog.html): any element with
// data-report-api opens it for its item and sends the report to that API URL. Without
// JavaScript (or <dialog>) the element is a plain link to the report page.
(function () {
  "use strict";

  var opener = null;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"];
    } catch (error) {
      return "";
    }
  }

  function parts(box) {
    return {
      form: box.querySelector("form"),
      title: box.querySelector("#report-dialog-title"),
      about: box.querySelector("[data-report-about]"),
      fields: box.querySelector("[data-report-fields]"),
      error: box.querySelector("#report-dialog-error"),
      done: box.querySelector("#report-dialog-done"),
      send: box.querySelector("[data-report-send]"),
      close: box.querySelector("[data-report-close]"),
    };
  }

  function showError(p, message) {
    p.error.textContent = message;
    p.error.hidden = false;
  }

  document.addEventListener("click", function (event) {
    var box = document.getElementById("report-dialog");
    if (!box) return;
    if (event.target.closest("[data-report-close]")) {
      box.close();
      return;
    }
    var link = event.target.closest("[data-report-api]");
    if (!link || typeof box.showModal !== "function") return;
    event.preventDefault();
    opener = link;
    var p = parts(box);
    p.form.reset();
    p.form.dataset.api = link.dataset.reportApi;
    p.title.textContent = link.dataset.reportTitle || "Report";
    p.about.textContent = link.dataset.reportAbout || "";
    p.fields.hidden = false;
    p.error.hidden = true;
    p.done.hidden = true;
    p.send.hidden = false;
    p.send.disabled = false;
    p.close.textContent = "Cancel";
    box.showModal();
    var first = box.querySelector("input[name=category]");
    if (first) first.focus();
  });

  document.addEventListener("close", function (event) {
    if (event.target.id === "report-dialog" && opener) {
      opener.focus();
      opener = null;
    }
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "report-dialog-form") return;
    event.preventDefault();
    var box = document.getElementById("report-dialog");
    var p = parts(box);
    var chosen = form.querySelector("input[name=category]:checked");
    if (!chosen) {
      showError(p, "Choose what is wrong with it.");
      form.querySelector("input[name=category]").focus();
      return;
    }
    p.error.hidden = true;
    p.send.disabled = true;
    fetch(form.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ category: chosen.value, note: form.elements.note.value }),
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.status === 201, body: body };
        });
      })
      .then(function (result) {
        p.send.disabled = false;
        if (!result.ok) {
          showError(p, result.body.message || "The report could not be sent.");
          return;
        }
        p.fields.hidden = true;
        p.send.hidden = true;
        p.close.textContent = "Close";
        p.done.hidden = false;
        p.done.focus();
      })
      .catch(function () {
        p.send.disabled = false;
        showError(p, "The report could not be sent. Check your connection and try again.");
      });
  });
})();
