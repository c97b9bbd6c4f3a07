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
    // Variations: each item costs what one creation of the type costs.
    var countField = form.querySelector('select[name="count"]');
    var count = countField ? Number(countField.value) || 1 : 1;
    var cost = Number(chosen.dataset.cost) * count;
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
    // The server disables the types the balance does not cover (and Generate when none is
    // covered); kept so here too. The API refuses with 402 whatever the page says.
    var submit = form.querySelector('button[type="submit"]');
    if (submit) submit.disabled = balance < cost;
    var idle = form.querySelector(".when-idle");
    if (idle) {
      idle.textContent =
        balance < cost
          ? form.dataset.shortLabel || "Out of tokens"
          : "Generate " + (count > 1 ? count + " " + kind + "s" : kind) + " · " + plural(cost, "token");
    }
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

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }

  /* Times the server writes in UTC (<time data-local-time>), shown in the viewer's own time:
     "Tue 14:00" within the coming week, with the date further out. */
  function localLabel(date) {
    var ahead = date.getTime() - Date.now();
    var options = { weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (ahead > 6 * 864e5 || ahead < -864e5) {
      options.day = "numeric";
      options.month = "short";
    }
    return new Intl.DateTimeFormat("en-GB", options).format(date);
  }

  function timeZoneName() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (ignored) {
      return "";
    }
  }

  function localizeTime(element) {
    var date = new Date(element.getAttribute("datetime"));
    if (isNaN(date.getTime())) return;
    element.textContent = localLabel(date);
    var full = new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeStyle: "short" });
    var zone = timeZoneName();
    element.title = full.format(date) + (zone ? " (" + zone + ")" : "");
  }

  /* "Publish at": the browser's UTC offset for the chosen local time (daylight saving
     included) goes with it, so the server reads the creator's own time. */
  function offsetOf(date) {
    var minutes = -date.getTimezoneOffset();
    var sign = minutes < 0 ? "-" : "+";
    minutes = Math.abs(minutes);
    return sign + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }

  function syncPublishForm(input) {
    var form = input.form;
    if (!form) return;
    var date = input.value ? new Date(input.value) : null;
    var offset = form.querySelector("input[data-offset]");
    if (offset) offset.value = date && !isNaN(date.getTime()) ? offsetOf(date) : "";
    var label = form.querySelector("[data-publish-label]");
    if (label) label.textContent = input.value ? "Schedule" : "Post it";
  }

  function describeTimeZone(hint) {
    var zone = timeZoneName();
    hint.textContent =
      "Leave it empty to publish now. Your time zone: " +
      (zone ? zone + " (UTC" + offsetOf(new Date()) + ")" : "UTC" + offsetOf(new Date())) +
      ".";
  }

  /* A scheduled card asks for itself once its time has come (hx-trigger="due"), and again a
     little later while the scheduler has not got to it yet. */
  var DAY = 864e5;
  function watchDue(card) {
    if (card.dataset.dueWatched) return;
    card.dataset.dueWatched = "1";
    var wait = Date.parse(card.dataset.due) - Date.now();
    if (isNaN(wait) || wait > DAY || wait < -10 * 60e3) return;
    window.setTimeout(function () {
      if (document.body.contains(card)) htmx.trigger(card, "due");
    }, wait > 0 ? wait + 1500 : 5000);
  }

  /* An empty (or blank) prompt is caught before any request, in words: `required` stops
     the submit, and this message replaces the browser's "Please fill out this field". */
  function checkPrompt(textarea) {
    textarea.setCustomValidity(textarea.value.trim() ? "" : textarea.dataset.emptyMessage);
  }

  /* Relative times ("13 seconds ago") kept true while the page stays open: every 15 s,
     in place, on <time data-relative datetime="...">. Not a live region: a screen reader
     reads the current text when it gets there, without an announcement every 15 s. */
  function relativeLabel(date) {
    var seconds = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
    if (seconds < 1) return "now";
    if (seconds < 60) return seconds === 1 ? "a second ago" : seconds + " seconds ago";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes === 1 ? "a minute ago" : minutes + " minutes ago";
    var hours = Math.floor(minutes / 60);
    if (hours < 24) return hours === 1 ? "an hour ago" : hours + " hours ago";
    return null; // older: the server's words (a date) stay
  }

  function refreshRelative(element) {
    var date = new Date(element.getAttribute("datetime"));
    if (isNaN(date.getTime())) return;
    var label = relativeLabel(date);
    if (label && element.textContent !== label) element.textContent = label;
  }

  window.setInterval(function () {
    if (!document.hidden) document.querySelectorAll("time[data-relative]").forEach(refreshRelative);
  }, 15000);

  function init(root) {
    within(root, "textarea[data-counter]").forEach(updateCounter);
    within(root, "textarea[data-empty-message]").forEach(checkPrompt);
    within(root, "time[data-relative]").forEach(refreshRelative);
    within(root, "form[data-create-form]").forEach(syncCreateForm);
    within(root, "time[data-local-time]").forEach(localizeTime);
    within(root, "input[data-publish-at]").forEach(syncPublishForm);
    within(root, "[data-tz-hint]").forEach(describeTimeZone);
    within(root, "[data-due]").forEach(watchDue);
    within(root, "[data-js-only]").forEach(function (element) {
      element.hidden = false;
    });
    syncBulk();
  }

  /* Bulk actions: every card's checkbox belongs to the tab's bulk form. "Select all on this
     page", shift-click for a range, a live count, and the buttons only with a selection. */
  function selectBoxes() {
    return Array.prototype.slice.call(
      document.querySelectorAll('#tab-items input[data-select][form="bulk-form"]')
    );
  }

  function syncBulk() {
    var form = document.getElementById("bulk-form");
    if (!form) return;
    var boxes = selectBoxes();
    var chosen = boxes.filter(function (box) {
      return box.checked;
    }).length;
    var count = form.querySelector("[data-bulk-count]");
    if (count) {
      count.textContent = chosen
        ? chosen + " selected"
        : "None selected. Tick the cards to act on several at once.";
    }
    form.querySelectorAll('button[name="action"]').forEach(function (button) {
      button.disabled = chosen === 0;
    });
    // The actions (and the caption for all) appear once something is selected.
    form.classList.toggle("bulk--idle", chosen === 0);
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
    }
  }

  var lastTicked = null;
  document.addEventListener("click", function (event) {
    var box = event.target.closest && event.target.closest("input[data-select]");
    if (!box) return;
    if (event.shiftKey && lastTicked && lastTicked !== box) {
      var boxes = selectBoxes();
      var from = boxes.indexOf(lastTicked);
      var to = boxes.indexOf(box);
      if (from >= 0 && to >= 0) {
        boxes.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (other) {
          other.checked = box.checked;
        });
      }
    }
    lastTicked = box;
    syncBulk();
  });

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    // A page sent back with what was wrong (a form's error) says where focus goes. It used
    // to be placed only after some request's swap settled, so on a full page it waited
    // for the bell's poll to bring news.
    if (document.querySelector("[data-autofocus]")) placeFocus(null);
  });

  document.addEventListener("htmx:load", function (event) {
    init(event.detail.elt);
  });

  document.addEventListener("input", function (event) {
    if (event.target.matches("textarea[data-counter]")) updateCounter(event.target);
    if (event.target.matches("textarea[data-empty-message]")) checkPrompt(event.target);
    if (event.target.matches("input[data-publish-at]")) syncPublishForm(event.target);
  });

  // The offset again at the moment of sending, whatever changed the field.
  document.addEventListener(
    "submit",
    function (event) {
      var input = event.target.querySelector && event.target.querySelector("input[data-publish-at]");
      if (input) syncPublishForm(input);
    },
    true
  );

  /* An action that asks first (Cancel, Delete forever, a bulk button): an in-page modal
     dialog whose buttons name the outcome ("Stop generating" / "Keep it"). Escape or
     "Keep it" closes it and focus goes back to the button that opened it (or its card). */
  var dialogReturn = null;
  var dialogGo = null;

  function confirmDialog() {
    var dialog = document.getElementById("confirm-dialog");
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.id = "confirm-dialog";
    dialog.className = "dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    dialog.setAttribute("aria-describedby", "confirm-dialog-body");
    dialog.innerHTML =
      '<h2 class="dialog__title" id="confirm-dialog-title"></h2>' +
      '<p class="dialog__body" id="confirm-dialog-body"></p>' +
      '<div class="dialog__buttons">' +
      '<button type="button" class="button" data-dialog-answer="keep"></button>' +
      '<button type="button" class="button button--danger" data-dialog-answer="go"></button>' +
      "</div>";
    dialog.addEventListener("click", function (event) {
      var answer = event.target.closest && event.target.closest("[data-dialog-answer]");
      if (!answer) return;
      var go = answer.dataset.dialogAnswer === "go" ? dialogGo : null;
      dialogGo = null;
      dialog.close();
      if (go) go();
    });
    dialog.addEventListener("close", function () {
      var back = dialogReturn;
      dialogReturn = null;
      dialogGo = null;
      if (back && document.body.contains(back)) back.focus();
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  function askFirst(opener, texts, go) {
    var dialog = confirmDialog();
    dialog.querySelector(".dialog__title").textContent = texts.title;
    dialog.querySelector(".dialog__body").textContent = texts.body || "";
    dialog.querySelector(".dialog__body").hidden = !texts.body;
    dialog.querySelector('[data-dialog-answer="keep"]').textContent = texts.keep || "Keep it";
    dialog.querySelector('[data-dialog-answer="go"]').textContent = texts.go;
    dialogReturn = opener;
    dialogGo = go;
    dialog.showModal();
    // The safe answer first: Enter right away keeps it.
    dialog.querySelector('[data-dialog-answer="keep"]').focus();
  }

  /* A video card: Play gives the video its controls (from then on the player's own) and
     plays it; before that the card has one tab stop for it, not five. */
  document.addEventListener("click", function (event) {
    var play = event.target.closest && event.target.closest("[data-play]");
    if (!play) return;
    var video = play.parentElement.querySelector("video[data-video]");
    if (!video) return;
    video.controls = true;
    play.remove();
    video.focus();
    var started = video.play();
    if (started && started.catch) started.catch(function () {});
  });

  /* Opening Publish puts the cursor in its caption. */
  document.addEventListener(
    "toggle",
    function (event) {
      var details = event.target;
      if (!details.matches || !details.matches("details.publish") || !details.open) return;
      var caption = details.querySelector("textarea");
      if (caption) caption.focus();
    },
    true
  );

  /* Landing on the drafts tab after Generate (…#creation-<id>): focus the new card, in
     view. */
  function focusLandedCard() {
    var id = window.location.hash.slice(1);
    if (id.indexOf("creation-") !== 0) return;
    var card = document.getElementById(id);
    if (!card) return;
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "start" });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusLandedCard);
  } else {
    focusLandedCard();
  }

  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    var trigger = event.detail.triggeringEvent;
    var submitter = trigger && trigger.submitter;
    var texts = null;
    var opener = elt;
    if (elt && elt.dataset && elt.dataset.dialogTitle) {
      texts = {
        title: elt.dataset.dialogTitle,
        body: elt.dataset.dialogBody,
        go: elt.dataset.dialogGo,
        keep: elt.dataset.dialogKeep,
      };
      // Kept: focus goes back to the card the action was on.
      opener = elt.closest(".card[tabindex], .post[tabindex]") || elt;
    } else if (submitter && submitter.dataset.confirm) {
      texts = { title: submitter.dataset.confirm, go: submitter.textContent.trim(), keep: "Keep them" };
      opener = submitter;
    }
    if (!texts) return;
    event.preventDefault();
    askFirst(opener, texts, function () {
      event.detail.issueRequest(true);
    });
  });

  // Undo puts the card back into the slot it left, if that slot is still on the page.
  document.addEventListener("htmx:configRequest", function (event) {
    var slot = event.detail.elt.dataset && event.detail.elt.dataset.undoSlot;
    if (slot && document.getElementById(slot)) event.detail.parameters.slot = slot;
  });

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-create-form]");
    if (form && (event.target.name === "type" || event.target.name === "count")) {
      syncCreateForm(form);
    }
    if (event.target.matches("[data-select-all]")) {
      selectBoxes().forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
    if (event.target.matches("[data-select], [data-select-all]")) syncBulk();
    if (event.target.matches("input[data-publish-at]")) syncPublishForm(event.target);
  });

  // A Copy button: <button data-copy="1234"> (a seed) or a post's link.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) return;
    var what = button.dataset.copy.indexOf("://") > 0 ? "Link copied." : "Seed copied.";
    navigator.clipboard.writeText(button.dataset.copy).then(function () {
      var announcer = document.getElementById("announcer");
      if (announcer) announcer.textContent = what;
    });
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
    note.textContent =
      card.dataset.stoppedNote ||
      "This card stopped updating: you may have been logged out, or it was deleted. Reload the page.";
    (still.querySelector(".card__body") || still).appendChild(note);
    card.replaceWith(still);
  }

  function errorCode(xhr) {
    try {
      return JSON.parse(xhr.responseText).error;
    } catch (ignored) {
      return null;
    }
  }

  // Only a creation that was made and then failed at once (the queue was down), or a key
  // already used for other words (an answer was lost, then the prompt edited), has spent
  // its idempotency key. After any other error the key stays: a request that timed out on
  // the way back may have gone through, and sending it again must not debit twice.
  var SPENT_KEY_ERRORS = ["queue_unavailable", "idempotency_key_reused"];
  function spentKey(xhr) {
    return SPENT_KEY_ERRORS.indexOf(errorCode(xhr)) !== -1;
  }
  // The API's sentence for it speaks of keys; a creator only pressed Generate.
  var KEY_REUSED =
    "This was already sent with different words; press Generate again to create it.";

  document.addEventListener("htmx:responseError", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (elt.hasAttribute("data-poll")) {
      // Other errors (a restart, a timeout) are left to the next poll.
      if (xhr.status === 403 || xhr.status === 404) stopPolling(elt);
      return;
    }
    showError(elt, errorCode(xhr) === "idempotency_key_reused" ? KEY_REUSED : messageFrom(xhr));
    var form = elt.closest("form");
    if (form && spentKey(xhr)) renewKeys(form);
  });

  document.addEventListener("htmx:sendError", function (event) {
    showError(event.detail.elt, "Could not reach Phoenix. Check your connection and try again.");
  });

  // Focus inside what a request may remove (a card that leaves its tab) moves on to its
  // neighbour. Noted when the request starts: hx-disabled-elt takes focus off the button.
  var focusNext = new WeakMap();
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    if (target && active && active !== document.body && target.contains(active)) {
      focusNext.set(event.detail.xhr, neighbourOf(target));
    }
  });

  // A form sent back with what was wrong with it (a publish time in the past) is a 400
  // with our HTML: swap it like a 409 or 422. Other 400s (JSON, an error page) stay errors.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (xhr.status === 400 && type.indexOf("text/html") === 0 && !/<html/i.test(xhr.responseText)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    // A JSON 409 or 422 (the create form posts to the API) has nothing to swap: it is an
    // error, shown in the form's error box like the others.
    if ((xhr.status === 409 || xhr.status === 422) && type.indexOf("application/json") === 0) {
      event.detail.shouldSwap = false;
      event.detail.isError = true;
    }
    // When the target goes without a replacement no settle event reaches the document:
    // place focus once the swap and its settling are done.
    var next = focusNext.get(xhr);
    if (next) {
      window.setTimeout(function () {
        placeFocus(next);
      }, 60);
    }
  });

  function placeFocus(next) {
    // An answer may say where focus goes (the card after Cancel, Undo after a delete).
    var wanted = document.querySelector("[data-autofocus]");
    if (wanted) {
      wanted.removeAttribute("data-autofocus");
      wanted.focus();
      return;
    }
    var active = document.activeElement;
    if (next && document.body.contains(next) && (!active || active === document.body)) {
      next.focus();
    }
  }

  function neighbourOf(element) {
    var items = ".card, .post";
    var next = element.nextElementSibling;
    while (next && !next.matches(items)) next = next.nextElementSibling;
    if (next) return next;
    var previous = element.previousElementSibling;
    while (previous && !previous.matches(items)) previous = previous.previousElementSibling;
    return previous || document.getElementById("tab-title") || document.getElementById("main");
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    syncBulk();
    // After a tab switch the focused link is replaced: put focus on the new current tab.
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source && source.classList && source.classList.contains("tab")) {
      var current = document.querySelector('#profile-tabs .tab[aria-current="page"]');
      if (current) current.focus();
      return;
    }
    placeFocus(event.detail.xhr && focusNext.get(event.detail.xhr));
  });

  // Coming back to the create page from the history cache must not reuse a spent key.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) renewKeys(document);
  });

  document.addEventListener("animationend", function (event) {
    var toast = event.target;
    if (event.animationName === "toast-out" && toast.classList.contains("toast")) toast.remove();
  });
})();
