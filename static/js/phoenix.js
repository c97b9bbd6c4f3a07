/* Phoenix: the little JavaScript the pages need on top of HTMX. Everything here is an
   enhancement: the pages work without it (forms post, links navigate). */
(function () {
  "use strict";

  function newKey() {
    if (window.crypto && typeof crypto.randomUUID === "function") {
      return crypto.randomUUID().replace(/-/g, "");
    }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  // A key whose request failed may be spent (a 503 leaves a failed creation under it), so
  // the next attempt gets a new one. A double click never reaches here: the button is
  // disabled while the first request is in flight.
  function renewKeys(root) {
    root.querySelectorAll('input[name="idempotency_key"]').forEach(function (input) {
      input.value = newKey();
    });
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  /* Live character counters: <textarea data-counter="id-of-output"> */
  function updateCounter(textarea) {
    var output = document.getElementById(textarea.dataset.counter);
    if (!output) return;
    var max = textarea.maxLength > 0 ? textarea.maxLength : 0;
    var length = textarea.value.length;
    output.textContent = max ? length + " / " + max : String(length);
    output.classList.toggle("counter--near", max > 0 && length >= max * 0.9);
  }

  /* The create form: show the options of the chosen type, keep the cost line right. */
  function syncCreateForm(form) {
    var chosen = form.querySelector('input[name="type"]:checked');
    if (!chosen) return;
    var kind = chosen.value;
    var cost = Number(chosen.dataset.cost);
    var balance = Number(form.dataset.balance);
    form.querySelectorAll("fieldset[data-kind]").forEach(function (fieldset) {
      var active = fieldset.dataset.kind === kind;
      // A disabled fieldset is not sent: the API refuses options of the other type.
      fieldset.disabled = !active;
      fieldset.hidden = !active;
    });
    var costLabel = form.querySelector("[data-cost-label]");
    if (costLabel) costLabel.textContent = plural(cost, "token");
    var costNumber = form.querySelector("[data-cost-number]");
    if (costNumber) costNumber.textContent = String(cost);
    var after = form.querySelector("[data-after]");
    if (after) after.textContent = balance >= cost ? String(balance - cost) : "—";
    var shortfall = form.querySelector("[data-shortfall]");
    if (shortfall) shortfall.hidden = balance >= cost;
    var idle = form.querySelector(".when-idle");
    if (idle) idle.textContent = "Generate " + kind + " · " + plural(cost, "token");
  }

  function errorBoxFor(elt) {
    var owner = elt && elt.closest ? elt.closest("[data-error-target]") : null;
    return owner ? document.querySelector(owner.dataset.errorTarget) : null;
  }

  function messageFrom(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.message) return body.message;
    } catch (ignored) {
      /* not JSON: fall through to a sentence by status */
    }
    if (xhr.status === 429) return "Too many requests right now. Wait a moment and try again.";
    if (xhr.status === 403) return "Your session expired. Reload the page and try again.";
    return "Something went wrong (error " + xhr.status + "). Please try again.";
  }

  function showError(elt, message) {
    var box = errorBoxFor(elt);
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  function init(root) {
    root.querySelectorAll("textarea[data-counter]").forEach(updateCounter);
    root.querySelectorAll("form[data-create-form]").forEach(syncCreateForm);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });

  document.addEventListener("htmx:load", function (event) {
    init(event.detail.elt);
  });

  document.addEventListener("input", function (event) {
    if (event.target.matches("textarea[data-counter]")) updateCounter(event.target);
  });

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-create-form]");
    if (form && event.target.name === "type") syncCreateForm(form);
  });

  // "Cancel" in a form inside <details> (the publish form) folds it away again.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-close-details]");
    if (!button) return;
    var details = button.closest("details");
    if (details) {
      details.open = false;
      details.querySelector("summary").focus();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.matches("textarea")) {
      var form = event.target.form;
      if (form) {
        event.preventDefault();
        form.requestSubmit();
      }
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    // A card polls only while its tab is visible. (A trigger filter would do this in the
    // template, but htmx evaluates filters as strings, which our CSP refuses.)
    if (document.hidden && event.detail.elt.hasAttribute("data-poll")) {
      event.preventDefault();
      return;
    }
    var box = errorBoxFor(event.detail.elt);
    if (box) box.hidden = true;
  });

  // A card whose polls are refused (logged out elsewhere, deleted in another tab) would be
  // refused every two seconds forever: put an inert copy in its place, which stops the
  // polling, and say what to do.
  function stopPolling(card) {
    var still = card.cloneNode(true);
    ["hx-get", "hx-trigger", "data-poll", "aria-busy"].forEach(function (name) {
      still.removeAttribute(name);
    });
    var note = document.createElement("p");
    note.className = "card__notice";
    note.setAttribute("role", "alert");
    note.textContent = "This card stopped updating: you may have been logged out, or it was deleted. Reload the page.";
    (still.querySelector(".card__body") || still).appendChild(note);
    card.replaceWith(still);
  }

  // Only a creation that was made and then failed at once (the queue was down) has spent
  // its idempotency key. After any other error the key stays: a request that timed out on
  // the way back may have gone through, and sending it again must not debit twice.
  function spentKey(xhr) {
    try {
      return JSON.parse(xhr.responseText).error === "queue_unavailable";
    } catch (ignored) {
      return false;
    }
  }

  document.addEventListener("htmx:responseError", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (elt.hasAttribute("data-poll")) {
      // Other errors (a restart, a timeout) are left to the next poll.
      if (xhr.status === 403 || xhr.status === 404) stopPolling(elt);
      return;
    }
    showError(elt, messageFrom(xhr));
    var form = elt.closest("form");
    if (form && spentKey(xhr)) renewKeys(form);
  });

  document.addEventListener("htmx:sendError", function (event) {
    showError(event.detail.elt, "Could not reach Phoenix. Check your connection and try again.");
  });

  // After a tab switch the focused link is replaced: put focus on the new current tab.
  document.addEventListener("htmx:afterSettle", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source && source.classList && source.classList.contains("tab")) {
      var current = document.querySelector('#profile-tabs .tab[aria-current="page"]');
      if (current) current.focus();
    }
  });

  // Coming back to the create page from the history cache must not reuse a spent key.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) renewKeys(document);
  });

  document.addEventListener("animationend", function (event) {
    if (event.target.classList && event.target.classList.contains("toast")) event.target.remove();
  });
})();
