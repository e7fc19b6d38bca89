/* Paraph signing page.
 *
 * One script for the embedded iFrame (hellosign-embedded v2 postMessage protocol) and the page opened from
 * a mail. Everything comes from the JSON in #paraph-data; every action posts JSON with the token in its
 * X-Paraph-Token header, which the server checks before reading the body (no cookies: the page runs in a
 * cross-site iFrame). The server checks everything again: what this script
 * checks is for the signer's comfort.
 */
(function () {
  "use strict";

  // Every string the signer sees goes through tr(): the page's language comes as JSON in #paraph-i18n
  // (msgid -> translation, from the gettext catalogs; `make i18n` extracts the tr("...") calls).
  const I18N = JSON.parse(document.getElementById("paraph-i18n")?.textContent || "{}"); function tr(msgid, vars) { let s = I18N[msgid] || msgid; for (const k in (vars || {})) s = s.split("{" + k + "}").join(String(vars[k])); return s; }
  // A server message with values in it comes with its msgid and values too (message_id, message_vars).
  function trError(err) { return err.message_id ? tr(err.message_id, err.message_vars) : tr(err.message); }

  var data = JSON.parse(document.getElementById("paraph-data").textContent);
  var embedded = data.mode === "embedded";
  var byId = function (id) { return document.getElementById(id); };

  // ---------------------------------------------------------------- theme
  Object.keys(data.theme || {}).forEach(function (name) {
    document.documentElement.style.setProperty(name, data.theme[name]);
  });

  // ---------------------------------------------------------------- talking to the parent (embedded)
  var parentOrigin = null;
  var talking = false;
  var finished = false; // signed, declined or reassigned: closing is "finish", not "cancel"

  function originOf(url) {
    try { return new URL(url).origin; } catch (e) { return null; }
  }

  function post(type, payload) {
    if (!talking || !parentOrigin) return;
    var msg = { type: type };
    if (payload !== undefined) msg.payload = payload;
    window.parent.postMessage(msg, parentOrigin);
  }

  function hostAllowed(origin, domains) {
    var host;
    try { host = new URL(origin).hostname.toLowerCase(); } catch (e) { return false; }
    return (domains || []).some(function (d) {
      d = String(d).trim().toLowerCase().replace(/\.$/, "");
      return d && (host === d || host.slice(-(d.length + 1)) === "." + d);
    });
  }

  var verifyNonce = null;
  var onVerified = null;
  var allowCancel = null; // what the parent's hellosign:configure said, once it did

  /* The page past the PIN step is the same iFrame, opened again: the library was initialized by the PIN step
     (and configured in answer), so it is told once only; the PIN step passes its configuration along. */
  var resumed = embedded ? new URL(window.location.href).searchParams.get("pp_resumed") : null;
  if (resumed !== null) allowCancel = resumed === "cancel";

  function initialize() {
    if (resumed !== null) {
      var close = byId("pp-close");
      if (close) close.hidden = !allowCancel;
      return;
    }
    post("hellosign:initialize", { signatureId: data.signatureId });
  }

  function listen() {
    window.addEventListener("message", function (event) {
      if (event.source !== window.parent || event.origin !== parentOrigin) return;
      var msg = event.data;
      if (!msg || typeof msg !== "object" || typeof msg.type !== "string") return;
      var payload = msg.payload || {};
      switch (msg.type) {
        case "hellosign:configure":
          allowCancel = !!payload.allowCancel;
          var close = byId("pp-close");
          if (close) close.hidden = !allowCancel;
          break;
        case "hellosign:verifyDomainResponse":
          if (verifyNonce && payload.token === verifyNonce && onVerified) {
            verifyNonce = null;
            onVerified(hostAllowed(event.origin, data.embedded.domains));
          }
          break;
        case "hellosign:userCancelRequest":
          post(finished ? "hellosign:userFinishRequest" : "hellosign:userCancelRequest");
          break;
        case "hellosign:error":
          showStatus(payload.message || tr("The page that shows this document reported an error."));
          break;
        default:
          break;
      }
    });
  }

  // The embedding page's origin: parent_url's (the server checked it), else the referrer's; null if neither.
  function embeddingOrigin() {
    return (data.embedded && data.embedded.parentOrigin) || (document.referrer ? originOf(document.referrer) : null);
  }

  // A PIN step or a notice in an iFrame: listen to the embedding page; true if it can be told anything.
  function talkToParent() {
    if (!embedded || window.parent === window) return false;
    parentOrigin = embeddingOrigin();
    talking = !!parentOrigin;
    if (talking) listen();
    return talking;
  }

  function startEmbedded(ready) {
    var ctx = data.embedded || {};
    if (window.parent === window) {
      // Opened outside an iFrame: nobody to talk to. Allowed only where domain verification is skipped.
      if (ctx.verifyDomain) {
        fail(tr("This document can only be signed inside the page that embeds it."));
        return;
      }
      ready();
      return;
    }
    parentOrigin = embeddingOrigin();
    if (!parentOrigin) {
      fail(tr("This page does not know which page embeds it (parent_url is missing)."));
      return;
    }
    talking = true;
    listen();
    if (!ctx.verifyDomain) {
      initialize();
      ready();
      return;
    }
    var timer = setTimeout(function () {
      verifyNonce = null;
      initialize();
      post("hellosign:error", { signatureId: data.signatureId, code: "domain_verification_failed" });
      fail(tr("The page that embeds this document could not be verified."));
    }, 10000);
    onVerified = function (ok) {
      clearTimeout(timer);
      initialize();
      if (ok) {
        ready();
      } else {
        post("hellosign:error", { signatureId: data.signatureId, code: "domain_not_allowed" });
        fail(tr("This document cannot be signed on this site."));
      }
    };
    verifyNonce = randomToken();
    post("hellosign:verifyDomainRequest", { token: verifyNonce });
  }

  function randomToken() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function fail(message) {
    var main = byId("pp-main");
    var footer = byId("pp-footer");
    if (main) main.hidden = true;
    if (footer) footer.hidden = true;
    document.body.classList.remove("pp-verifying-now");
    var notice = document.createElement("main");
    notice.className = "pp-notice";
    var h = document.createElement("h1");
    h.textContent = tr("This document cannot be shown");
    var p = document.createElement("p");
    p.setAttribute("role", "alert");
    p.textContent = message;
    notice.appendChild(h);
    notice.appendChild(p);
    document.body.appendChild(notice);
  }

  // ---------------------------------------------------------------- the access code (PIN) step
  /* Nothing of the document is on this page. A right code answers a PIN pass: the page opens again with it
     (pin= in its URL, as the token is), and carries it on its images and actions. */
  if (data.state === "pin") {
    if (talkToParent()) initialize();
    var pinInput = byId("pp-pin-input");
    var pinError = byId("pp-pin-error");
    var pinBusy = false;
    pinInput.focus();
    byId("pp-pin-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var code = pinInput.value.trim();
      if (!code) { pinError.textContent = tr("Enter the access code."); pinInput.setAttribute("aria-invalid", "true"); return; }
      if (pinBusy) return;
      pinBusy = true;
      byId("pp-pin-submit").disabled = true;
      fetch(data.api.pin, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Paraph-Token": data.token },
        body: JSON.stringify({ pin: code }),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer"
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          pinBusy = false;
          byId("pp-pin-submit").disabled = false;
          if (response.ok && json.ok) {
            var url = new URL(window.location.href);
            url.searchParams.set("pin", json.pin || "");
            if (talking) url.searchParams.set("pp_resumed", allowCancel ? "cancel" : "nocancel");
            window.location.replace(url.toString());
            return;
          }
          var err = json.error || {};
          pinInput.value = "";
          pinInput.setAttribute("aria-invalid", "true");
          pinError.textContent = err.state === "form" && json.tries_left > 0
            ? tr("This access code is not right. Tries left: {count}.", { count: json.tries_left })
            : err.message ? trError(err) : tr("Try again.");
          if (err.state === "pin_locked") {
            pinInput.disabled = true;
            byId("pp-pin-submit").disabled = true;
            post("hellosign:error", { signatureId: data.signatureId, code: "pin_locked" });
          } else if (err.state && err.state !== "form") {
            pinInput.disabled = true;
            byId("pp-pin-submit").disabled = true;
          } else {
            pinInput.focus();
          }
        });
      }, function () {
        pinBusy = false;
        byId("pp-pin-submit").disabled = false;
        pinError.textContent = tr("The server could not be reached. Check your connection and try again.");
      });
    });
    return;
  }

  // ---------------------------------------------------------------- a page that only tells something
  if (data.state !== "ready") {
    if (talkToParent()) {
      finished = true;
      // Initialize first so the library's init timeout does not fire an alert over our explanation.
      initialize();
      post("hellosign:error", { signatureId: data.signatureId, code: data.code || data.state });
    }
    return;
  }

  // ---------------------------------------------------------------- fields
  var fields = data.fields.slice().sort(function (a, b) {
    return a.document_index - b.document_index || a.page - b.page || a.y - b.y || a.x - b.x;
  });
  var fieldById = {};
  var els = {}; // api_id -> element
  fields.forEach(function (f) { fieldById[f.api_id] = f; });
  var mine = fields.filter(function (f) { return f.mine; });
  var adopted = { signature: null, initials: null };
  var filledImage = {}; // api_id -> true once a signature/initials field shows the adopted image
  var groups = {};
  (data.groups || []).forEach(function (g) { groups[g.group_id] = g; });

  function label(f, bare) {
    var names = {
      signature: tr("Signature"), initials: tr("Initials"), text: tr("Text"), checkbox: tr("Checkbox"), radio: tr("Option"),
      dropdown: tr("Choice"), date_signed: tr("Date signed"), "text-merge": tr("Text"), "checkbox-merge": tr("Checkbox")
    };
    var text = f.name || names[f.type] || f.type;
    if (f.group && groups[f.group] && groups[f.group].group_label && f.type === "radio" && !f.name) {
      text = groups[f.group].group_label;
    }
    return f.required && !f.group && !bare ? tr("{label} (required)", { label: text }) : text;
  }

  function place(el, f, page) {
    el.style.left = (100 * f.x / page.width) + "%";
    el.style.top = (100 * f.y / page.height) + "%";
    el.style.width = (100 * f.width / page.width) + "%";
    el.style.height = (100 * f.height / page.height) + "%";
    // The field's font scales with the page; never below 10px, so a phone can still read what is typed. It
    // leaves room in the field's height for descenders (g, j, p, y) and the border.
    var points = Math.max(7, Math.min(49, f.font_size || 12));
    if (f.type !== "signature" && f.type !== "initials") points = Math.min(points, Math.max(7, f.height * 0.7));
    var size = points * 100 / page.width;
    el.style.fontSize = "max(10px, " + size.toFixed(3) + "cqw)";
  }

  function initialsOf(name) {
    return (name || "").split(/\s+/).filter(Boolean).map(function (w) { return w[0].toUpperCase(); }).join("");
  }

  function buildField(f) {
    var el;
    if (!f.mine) {
      if (f.type === "hyperlink") {
        el = document.createElement("a");
        el.href = f.content_url;
        el.target = "_blank";
        el.rel = "noopener noreferrer";
        el.textContent = f.content || f.content_url;
        el.className = "pp-field pp-link";
      } else {
        el = document.createElement("div");
        el.className = "pp-field pp-other";
        el.setAttribute("aria-hidden", "true");
        if (typeof f.value === "string") el.textContent = f.value;
        else if (f.value === true) el.textContent = f.type === "signature" || f.type === "initials" ? tr("Signed") : "\u2715";
      }
    } else if (f.type === "text" || f.type === "text-merge") {
      el = document.createElement("input");
      el.type = f.masked ? "password" : "text";
      el.className = "pp-field pp-input";
      el.placeholder = f.placeholder || "";
      el.maxLength = 4000;
      el.autocomplete = "off";
      if (f.validation_type === "numbers_only" || f.validation_type === "zip_code") el.inputMode = "numeric";
      if (f.validation_type === "email_address") el.inputMode = "email";
      if (f.validation_type === "phone_number") el.inputMode = "tel";
      if (typeof f.value === "string") el.value = f.value;
    } else if (f.type === "dropdown") {
      el = document.createElement("select");
      el.className = "pp-field pp-select";
      var empty = document.createElement("option");
      empty.value = "";
      empty.textContent = tr("Choose\u2026");
      el.appendChild(empty);
      (f.options || []).forEach(function (o) {
        var opt = document.createElement("option");
        opt.value = o;
        opt.textContent = o;
        el.appendChild(opt);
      });
      el.value = f.value || "";
    } else if (f.type === "checkbox" || f.type === "checkbox-merge" || f.type === "radio") {
      el = document.createElement("input");
      el.type = f.type === "radio" ? "radio" : "checkbox";
      if (f.type === "radio") el.name = "pp-group-" + (f.group || f.api_id);
      el.className = "pp-field pp-check";
      el.checked = f.value === true || f.value === "true" || f.value === "1";
    } else if (f.type === "date_signed") {
      el = document.createElement("input");
      el.type = "text";
      el.readOnly = true;
      el.className = "pp-field pp-input pp-date";
      el.value = data.dateSigned;
    } else if (f.type === "signature" || f.type === "initials") {
      el = document.createElement("button");
      el.type = "button";
      el.className = "pp-field pp-sig pp-" + f.type;
      el.textContent = f.type === "signature" ? tr("Sign here") : tr("Initial");
      el.addEventListener("click", function () { onSignatureField(f); });
    } else {
      el = document.createElement("div");
      el.className = "pp-field pp-other";
    }
    el.setAttribute("data-testid", "field-" + f.api_id);
    el.id = "pp-field-" + f.api_id;
    if (f.mine) {
      // A button's name starts with what it shows ("Sign here"), as speech input users say it (WCAG 2.5.3).
      el.setAttribute("aria-label", el.tagName === "BUTTON" ? el.textContent + ", " + label(f) : label(f));
      el.title = label(f);
      var group = f.group && groups[f.group];
      var needed = group ? !/^require_0/.test(group.requirement || "") : f.required;
      el.classList.add(needed ? "pp-required" : "pp-optional");
      if (f.required && el.tagName !== "BUTTON" && f.type !== "date_signed" && !f.group) {
        el.setAttribute("aria-required", "true");
      }
      el.addEventListener("input", onChange);
      el.addEventListener("change", onChange);
      el.addEventListener("focus", function () { onGuidedFocus(f); showFieldError(f); });
      // A field's problem shows once the signer leaves it (or submits), never before they had a chance.
      el.addEventListener("blur", function () {
        if (el.dataset.touched === "1" || (dialog && dialog.open)) return;
        el.dataset.touched = "1";
        refresh();
      });
      el.addEventListener("keydown", function (e) {
        if (guided && e.key === "Enter" && el.tagName === "INPUT" && el.type !== "checkbox" && el.type !== "radio") {
          e.preventDefault();
          nextField();
        }
      });
    }
    return el;
  }

  function render() {
    var doc = byId("pp-doc");
    var layers = {};
    data.pages.forEach(function (p, i) {
      var page = document.createElement("div");
      page.className = "pp-page";
      page.style.aspectRatio = p.width + " / " + p.height;
      var img = document.createElement("img");
      img.src = p.src;
      img.alt = data.pages.length > 1 ? tr("Page {page} of {count}", { page: p.page, count: data.pages.length }) : tr("Page {page}", { page: p.page });
      img.className = "pp-page-image";
      img.draggable = false;
      page.appendChild(img);
      var layer = document.createElement("div");
      layer.className = "pp-layer";
      page.appendChild(layer);
      doc.appendChild(page);
      layers[p.document + ":" + p.page] = { layer: layer, page: p, index: i };
    });
    fields.forEach(function (f) {
      var target = layers[f.document_index + ":" + f.page];
      if (!target) return;
      var el = buildField(f);
      place(el, f, target.page);
      target.layer.appendChild(el);
      els[f.api_id] = el;
    });
  }

  // ---------------------------------------------------------------- values, rules, validation
  function valueOf(f) {
    var el = els[f.api_id];
    if (!el) return null;
    if (!f.mine) return f.value;
    if (f.type === "checkbox" || f.type === "checkbox-merge" || f.type === "radio") return el.checked;
    if (f.type === "signature" || f.type === "initials") return !!filledImage[f.api_id];
    if (f.type === "date_signed") return data.dateSigned;
    return el.value;
  }

  function triggerValue(v) {
    if (v === true) return "1";
    if (v === false) return "0";
    return v === null || v === undefined ? "" : String(v);
  }

  function triggerMet(t, value) {
    var v = triggerValue(value);
    var expected = t.value === null || t.value === undefined ? "" : String(t.value);
    var values = (t.values || []).map(String);
    switch (t.operator) {
      case "is": return v === expected;
      case "not": return v !== expected;
      case "any": return values.indexOf(v) >= 0;
      case "none": return values.indexOf(v) < 0;
      case "match":
        try { return new RegExp(expected).test(v.slice(0, 1000)); } catch (e) { return false; }
      default: return false;
    }
  }

  /* Mirrors paraph.signing.rules.hidden: a target shown by a rule stays hidden until one of its showing
     rules is met; a target hidden by a rule is hidden while one of its hiding rules is met. */
  function computeHidden() {
    var rules = data.rules || [];
    var result = { fields: {}, groups: {} };
    for (var round = 0; round <= rules.length; round++) {
      var shows = {}, hides = {};
      rules.forEach(function (rule) {
        var triggers = rule.triggers || [];
        var met = triggers.length > 0 && triggers.every(function (t) {
          var f = fieldById[t.id];
          var v = f ? (result.fields[t.id] ? null : valueOf(f)) : null;
          return triggerMet(t, v);
        });
        (rule.actions || []).forEach(function (a) {
          var key = a.field_id ? "f:" + a.field_id : "g:" + a.group_id;
          var bucket = a.hidden ? hides : shows;
          bucket[key] = bucket[key] || met;
        });
      });
      var now = { fields: {}, groups: {} };
      Object.keys(shows).concat(Object.keys(hides)).forEach(function (key) {
        if (hides[key] || (key in shows && !shows[key])) {
          (key[0] === "f" ? now.fields : now.groups)[key.slice(2)] = true;
        }
      });
      if (JSON.stringify(now) === JSON.stringify(result)) return now;
      result = now;
    }
    return result;
  }

  var hiddenNow = { fields: {}, groups: {} };

  function isHidden(f) {
    return !!(hiddenNow.fields[f.api_id] || (f.group && hiddenNow.groups[f.group]));
  }

  function applyRules() {
    hiddenNow = computeHidden();
    fields.forEach(function (f) {
      var el = els[f.api_id];
      if (el) el.hidden = isHidden(f);
    });
  }

  function validationError(f, value) {
    if (f.type !== "text" && f.type !== "text-merge") return null;
    if (!value) return null;
    if (f.validation_type === "custom_regex") {
      try {
        var re = new RegExp("^(?:" + (f.validation_custom_regex || "") + ")$");
        if (!re.test(value)) return tr("Use {format}.", { format: f.validation_custom_regex_format_label || tr("the expected format") });
      } catch (e) { return null; }
      return null;
    }
    var v = data.validations[f.validation_type];
    if (!v) return null;
    if (!new RegExp("^(?:" + v.pattern + ")$", v.flags || "").test(value)) return tr(v.message);
    if (v.extra === "aba" && !abaOk(value)) return tr("This is not a valid bank routing number.");
    if (v.extra === "phone" && (value.match(/[0-9]/g) || []).length < 7) return tr(v.message);
    return null;
  }

  function abaOk(digits) {
    if (!/^[0-9]{9}$/.test(digits)) return false;
    var w = [3, 7, 1, 3, 7, 1, 3, 7, 1], sum = 0;
    for (var i = 0; i < 9; i++) sum += Number(digits[i]) * w[i];
    return sum % 10 === 0;
  }

  function groupBounds(requirement) {
    var m = /^require_(\d+)(?:-(\d+|ormore))?$/.exec(requirement || "");
    if (!m) return [0, null];
    var low = Number(m[1]);
    if (m[2] === undefined) return [low, low];
    if (m[2] === "ormore") return [low, null];
    return [low, Number(m[2])];
  }

  /* Problems of the signer's visible fields: {api_id or "group:<id>": message}. */
  function problems() {
    var out = {};
    var inGroup = {};
    mine.forEach(function (f) {
      if (isHidden(f)) return;
      var value = valueOf(f);
      if (f.type === "text" || f.type === "text-merge") {
        var bad = validationError(f, value);
        if (!bad && f.required && !String(value).trim()) bad = tr("This field is required.");
        if (bad) out[f.api_id] = bad;
      } else if (f.type === "dropdown") {
        if (f.required && !value) out[f.api_id] = tr("Choose an option.");
      } else if (f.type === "signature" || f.type === "initials") {
        if (f.required && !value) out[f.api_id] = f.type === "signature" ? tr("Sign here.") : tr("Initial here.");
      } else if (f.type === "checkbox" || f.type === "checkbox-merge" || f.type === "radio") {
        if (f.group) {
          inGroup[f.group] = inGroup[f.group] || { count: 0, first: f };
          if (value) inGroup[f.group].count += 1;
        } else if (f.required && !value && f.type !== "radio") {
          out[f.api_id] = tr("Check this box.");
        }
      }
    });
    Object.keys(inGroup).forEach(function (g) {
      if (hiddenNow.groups[g]) return;
      var spec = groups[g];
      var first = inGroup[g].first;
      var requirement = spec ? spec.requirement : (first.type === "radio" ? "require_0-1" : "require_0-ormore");
      var b = groupBounds(requirement);
      var name = spec && spec.group_label ? "\u201c" + spec.group_label + "\u201d" : tr("this group");
      var n = inGroup[g].count;
      if (n < b[0]) out["group:" + g] = b[1] === b[0] ? tr("Select {count} in {name}.", { count: b[0], name: name })
        : tr("Select at least {count} in {name}.", { count: b[0], name: name });
      else if (b[1] !== null && n > b[1]) out["group:" + g] = tr("Select at most {count} in {name}.", { count: b[1], name: name });
    });
    return out;
  }

  function fieldForProblem(key) {
    if (key.indexOf("group:") === 0) {
      var g = key.slice(6);
      return mine.filter(function (f) { return f.group === g && !isHidden(f); })[0] || null;
    }
    return fieldById[key] || null;
  }

  var lastProblems = {};
  var serverErrors = {};

  function showStatus(text) {
    byId("pp-status").textContent = text || "";
  }

  function showFieldError(f) {
    var touched = els[f.api_id] && els[f.api_id].dataset.touched === "1";
    var message = serverErrors[f.api_id] ||
      (touched ? lastProblems[f.api_id] || (f.group ? lastProblems["group:" + f.group] : null) : null);
    showStatus(message ? tr("{label}: {message}", { label: label(f, true), message: message }) : "");
  }

  function refresh() {
    applyRules();
    lastProblems = problems();
    var left = 0;
    mine.forEach(function (f) {
      var el = els[f.api_id];
      if (!el) return;
      var bad = lastProblems[f.api_id] || (f.group ? lastProblems["group:" + f.group] : null);
      var touched = el.dataset.touched === "1";
      el.classList.toggle("pp-invalid", !!bad && touched);
      if (bad && touched) el.setAttribute("aria-invalid", "true"); else el.removeAttribute("aria-invalid");
      el.classList.toggle("pp-done-field", !bad && !isHidden(f) && isFilled(f));
    });
    Object.keys(lastProblems).forEach(function () { left += 1; });
    byId("pp-progress").textContent = left === 0
      ? tr("All required fields are filled in. Review the document, then click \u201c{button}\u201d.", { button: tr(data.finalButtonText) })
      : tr("Fields that need your attention: {count}", { count: left });
    if (guided) guidedShow();
  }

  function isFilled(f) {
    var v = valueOf(f);
    return v === true || (typeof v === "string" && v.trim() !== "");
  }

  function onChange(event) {
    var el = event.target;
    // Typing does not make a field wrong before the signer leaves it (blur); once left, it is checked live.
    if (event.type !== "input" || el.tagName !== "INPUT" || el.type === "checkbox" || el.type === "radio") {
      el.dataset.touched = "1";
    }
    var id = el.id.replace("pp-field-", "");
    delete serverErrors[id];
    refresh();
    var f = fieldById[id];
    if (f) showFieldError(f);
  }

  function goTo(f) {
    var el = els[f.api_id];
    if (!el) return;
    var step = guided ? guidedSteps().indexOf(f) : -1;
    if (step >= 0) { guidedGo(step); return; }
    el.scrollIntoView({ block: "center", behavior: "smooth" });
    el.focus({ preventScroll: true });
    showFieldError(f);
  }

  function nextField() {
    if (guided) { guidedGo(guidedAt + 1); return; }
    var keys = Object.keys(lastProblems);
    var active = document.activeElement && document.activeElement.id
      ? document.activeElement.id.replace("pp-field-", "") : null;
    var order = mine.filter(function (f) {
      return !isHidden(f) && (lastProblems[f.api_id] || (f.group && lastProblems["group:" + f.group]));
    });
    if (!order.length) {
      if (keys.length) { var f0 = fieldForProblem(keys[0]); if (f0) goTo(f0); return; }
      byId("pp-submit").focus();
      return;
    }
    var at = -1;
    order.forEach(function (f, i) { if (f.api_id === active) at = i; });
    goTo(order[(at + 1) % order.length]);
  }

  // ---------------------------------------------------------------- phone: guided mode
  /* On a narrow screen the page leads the signer through their fields one at a time: each is zoomed to until
     it is large enough to read and touch, Back and Next (the "next-field" button) step through them, and a
     count says where they are. The whole page stays: any field may still be tapped. */
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 640px)") : null;
  var guided = false;
  var guidedAt = -1; // -1: not started (the whole page); steps.length: past the last field
  var nextLabel = byId("pp-next").textContent;

  function guidedSteps() {
    return mine.filter(function (f) { return els[f.api_id] && !isHidden(f) && f.type !== "date_signed"; });
  }

  function buildGuidedBar() {
    var bar = document.createElement("div");
    bar.className = "pp-guided-bar";
    bar.id = "pp-guided-bar";
    bar.hidden = true;
    var back = document.createElement("button");
    back.type = "button";
    back.className = "pp-button secondary";
    back.id = "pp-guided-back";
    back.setAttribute("data-testid", "guided-back");
    back.textContent = tr("Back");
    back.addEventListener("click", function () { guidedGo(guidedAt - 1); });
    var where = document.createElement("div");
    where.className = "pp-guided-where";
    var count = document.createElement("p");
    count.id = "pp-guided-progress";
    count.className = "pp-guided-progress";
    count.setAttribute("data-testid", "guided-progress");
    count.setAttribute("aria-live", "polite");
    var name = document.createElement("p");
    name.id = "pp-guided-label";
    name.className = "pp-guided-label";
    where.appendChild(count);
    where.appendChild(name);
    bar.appendChild(back);
    bar.appendChild(where);
    var footer = byId("pp-footer");
    footer.insertBefore(bar, footer.firstChild);
  }

  function guidedShow() {
    var steps = guidedSteps();
    var f = guidedAt >= 0 ? steps[guidedAt] : null;
    byId("pp-guided-progress").textContent = guidedAt < 0
      ? tr("Fields to fill in: {total}", { total: steps.length })
      : tr("{n} of {total}", { n: Math.min(guidedAt + 1, steps.length), total: steps.length });
    byId("pp-guided-label").textContent = f ? label(f)
      : guidedAt >= steps.length ? tr("Review the document, then sign.") : "";
    byId("pp-guided-back").disabled = guidedAt <= 0;
    mine.forEach(function (g) {
      if (els[g.api_id]) els[g.api_id].classList.toggle("pp-guided-current", !!f && g === f);
    });
  }

  function guidedGo(i) {
    var steps = guidedSteps();
    if (i >= steps.length) {
      guidedAt = steps.length;
      guidedShow();
      zoomTo(null);
      byId("pp-submit").focus();
      return;
    }
    guidedAt = Math.max(0, i);
    var f = steps[guidedAt];
    guidedShow();
    zoomTo(f);
    els[f.api_id].focus({ preventScroll: true });
    showFieldError(f);
  }

  function onGuidedFocus(f) {
    if (!guided) return;
    var i = guidedSteps().indexOf(f);
    if (i >= 0 && i !== guidedAt) { guidedAt = i; guidedShow(); }
  }

  /* Zoom the document so that field f is at least 36 px tall (48 px when its width allows), and bring it to
     the middle of the screen; f null: the whole page again. */
  function zoomTo(f) {
    var doc = byId("pp-doc");
    var main = byId("pp-main");
    var page = f && data.pages.filter(function (p) { return p.document === f.document_index && p.page === f.page; })[0];
    if (!f || !page) { doc.style.width = ""; return; }
    var cs = getComputedStyle(main);
    var avail = main.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    var fit = avail / page.width; // CSS px per PDF point with the page as wide as the screen
    var scale = Math.max(fit, 36 / f.height, Math.min(48 / f.height, (avail - 16) / f.width));
    scale = Math.min(scale, Math.max(fit, 6));
    doc.style.width = (100 * scale / fit).toFixed(2) + "%";
    var r = els[f.api_id].getBoundingClientRect();
    var m = main.getBoundingClientRect();
    main.scrollLeft += r.left - m.left - (r.width < m.width ? (m.width - r.width) / 2 : 8);
    main.scrollTop += r.top - m.top - (m.height - r.height) / 2;
  }

  function setGuided(on) {
    if (on === guided) return;
    guided = on;
    document.body.classList.toggle("pp-guided", on);
    byId("pp-guided-bar").hidden = !on;
    byId("pp-next").textContent = on ? tr("Next") : nextLabel;
    guidedAt = -1;
    zoomTo(null);
    if (on) guidedShow();
    else mine.forEach(function (g) { if (els[g.api_id]) els[g.api_id].classList.remove("pp-guided-current"); });
  }

  // ---------------------------------------------------------------- signature dialog
  var dialog = byId("pp-sig-dialog");
  var dialogKind = "signature";
  var dialogField = null;
  var method = data.defaultMethod;
  var canvas = byId("pp-canvas");
  var ctx2d = canvas.getContext("2d");
  var drawn = false;
  var uploaded = null;

  function selectMethod(m) {
    method = m;
    ["draw", "type", "upload"].forEach(function (name) {
      var tab = byId("pp-tab-" + name);
      var panel = byId("pp-panel-" + name);
      var on = name === m;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      panel.hidden = !on;
    });
    byId("pp-sig-error").textContent = "";
    if (m === "type") updateTypedPreview(null);
  }

  // Tabs in the order of the allowed methods (the default first), arrow keys moving between them.
  data.methods.forEach(function (name) { byId("pp-sig-tabs").appendChild(byId("pp-tab-" + name)); });
  ["draw", "type", "upload"].forEach(function (name) {
    var tab = byId("pp-tab-" + name);
    tab.hidden = data.methods.indexOf(name) < 0;
    tab.addEventListener("click", function () { selectMethod(name); });
    tab.addEventListener("keydown", function (e) {
      if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
      var shown = data.methods;
      var i = shown.indexOf(name) + (e.key === "ArrowRight" ? 1 : -1);
      var next = shown[(i + shown.length) % shown.length];
      selectMethod(next);
      byId("pp-tab-" + next).focus();
    });
  });

  function openDialog(kind, f) {
    dialogKind = kind;
    dialogField = f;
    byId("pp-sig-title").textContent = kind === "signature" ? tr("Your signature") : tr("Your initials");
    byId("pp-typed-label").textContent = kind === "signature" ? tr("Type your name") : tr("Type your initials");
    var typed = byId("pp-typed");
    var previous = adopted[kind];
    typed.value = previous && previous.method === "type" ? previous.text
      : (kind === "signature" ? data.signer.name : initialsOf(data.signer.name));
    clearCanvas();
    uploaded = null;
    byId("pp-upload").value = "";
    byId("pp-upload-preview").hidden = true;
    selectMethod(data.methods.indexOf(data.defaultMethod) >= 0 ? data.defaultMethod : data.methods[0]);
    dialog.showModal();
    var focusTarget = method === "type" ? typed : byId("pp-tab-" + method);
    focusTarget.focus();
  }

  function closeDialog() {
    if (dialog.open) dialog.close();
    if (dialogField && els[dialogField.api_id]) els[dialogField.api_id].focus();
  }

  function typedUrl(text) {
    return data.api.typed + "?token=" + encodeURIComponent(data.token) +
      (data.pin ? "&pin=" + encodeURIComponent(data.pin) : "") + "&text=" + encodeURIComponent(text);
  }

  var previewTimer = null;
  function updateTypedPreview(event) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () {
      var text = byId("pp-typed").value.trim();
      var img = byId("pp-typed-preview");
      if (!text) { img.hidden = true; return; }
      img.src = typedUrl(text);
      img.alt = tr("Preview of \u201c{text}\u201d in a handwriting font", { text: text });
      img.hidden = false;
    }, event ? 250 : 0); // typing waits for a pause; opening the tab shows the preview at once
  }
  byId("pp-typed").addEventListener("input", updateTypedPreview);
  byId("pp-typed").addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); adopt(); }
  });

  function clearCanvas() {
    ctx2d.clearRect(0, 0, canvas.width, canvas.height);
    drawn = false;
  }

  (function drawing() {
    var down = false, last = null;
    function point(e) {
      var r = canvas.getBoundingClientRect();
      return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
    }
    canvas.addEventListener("pointerdown", function (e) {
      down = true;
      last = point(e);
      canvas.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!down) return;
      var p = point(e);
      ctx2d.strokeStyle = "#111827";
      ctx2d.lineWidth = 3;
      ctx2d.lineCap = "round";
      ctx2d.lineJoin = "round";
      ctx2d.beginPath();
      ctx2d.moveTo(last.x, last.y);
      ctx2d.lineTo(p.x, p.y);
      ctx2d.stroke();
      last = p;
      drawn = true;
    });
    function up() { down = false; }
    canvas.addEventListener("pointerup", up);
    canvas.addEventListener("pointercancel", up);
  })();
  byId("pp-clear").addEventListener("click", clearCanvas);

  byId("pp-upload").addEventListener("change", function () {
    var file = this.files && this.files[0];
    var error = byId("pp-sig-error");
    uploaded = null;
    byId("pp-upload-preview").hidden = true;
    if (!file) return;
    if (!/^image\/(png|jpeg)$/.test(file.type)) { error.textContent = tr("Choose a PNG or JPEG picture."); return; }
    if (file.size > 5 * 1024 * 1024) { error.textContent = tr("The picture is larger than {size} MB.", { size: 5 }); return; }
    var reader = new FileReader();
    reader.onload = function () {
      uploaded = reader.result;
      var img = byId("pp-upload-preview");
      img.src = uploaded;
      img.alt = tr("Preview of the uploaded signature");
      img.hidden = false;
      error.textContent = "";
    };
    reader.readAsDataURL(file);
  });

  function adopt() {
    var error = byId("pp-sig-error");
    var adoption;
    if (method === "type") {
      var text = byId("pp-typed").value.trim();
      if (!text) { error.textContent = dialogKind === "signature" ? tr("Type your name first.") : tr("Type your initials first."); return; }
      adoption = { method: "type", text: text, preview: typedUrl(text) };
    } else if (method === "draw") {
      if (!drawn) { error.textContent = dialogKind === "signature" ? tr("Draw your signature first.") : tr("Draw your initials first."); return; }
      var png = canvas.toDataURL("image/png");
      adoption = { method: "draw", image: png, preview: png };
    } else {
      if (!uploaded) { error.textContent = tr("Choose a picture first."); return; }
      adoption = { method: "upload", image: uploaded, preview: uploaded };
    }
    adopted[dialogKind] = adoption;
    // Every field already showing this kind shows the new one; the clicked field gets it too.
    mine.forEach(function (f) {
      if (f.type === dialogKind && (filledImage[f.api_id] || (dialogField && f.api_id === dialogField.api_id))) {
        fillImage(f);
      }
    });
    refresh();
    closeDialog();
  }
  byId("pp-sig-adopt").addEventListener("click", adopt);
  byId("pp-sig-cancel").addEventListener("click", closeDialog);

  function fillImage(f) {
    var a = adopted[f.type];
    var el = els[f.api_id];
    if (!a || !el) return;
    filledImage[f.api_id] = true;
    el.textContent = "";
    var img = document.createElement("img");
    img.src = a.preview;
    img.alt = ""; // the button's name says it is signed
    el.appendChild(img);
    el.classList.add("pp-signed");
    el.dataset.touched = "1";
    el.setAttribute("aria-label", tr("{label}: signed. Activate to change.", { label: label(f) }));
  }

  function onSignatureField(f) {
    var kind = f.type;
    if (adopted[kind] && !filledImage[f.api_id]) {
      fillImage(f);
      delete serverErrors[f.api_id];
      refresh();
      showFieldError(f);
      return;
    }
    openDialog(kind, f);
  }

  // ---------------------------------------------------------------- attachments
  var attached = {}; // index -> true once the server has the file
  (data.attachments || []).forEach(function (a) { if (a.filename) attached[a.index] = true; });

  function attachmentStatus(index, text, isError) {
    var status = byId("pp-attachment-status-" + index);
    var input = byId("pp-attachment-" + index);
    status.textContent = text;
    status.classList.toggle("pp-error", !!isError);
    if (isError) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }

  var ATTACHMENT_TYPES = /^(application\/pdf|image\/png|image\/jpeg)$/;
  (data.attachments || []).forEach(function (a) {
    var input = byId("pp-attachment-" + a.index);
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) return;
      if (file.type && !ATTACHMENT_TYPES.test(file.type)) { attachmentStatus(a.index, tr("This type of file is not accepted. Attach a PDF, PNG or JPEG file of at most 10 MB."), true); return; }
      if (file.size > data.attachmentMaxBytes) { attachmentStatus(a.index, tr("The file is larger than 10 MB. Attach a PDF, PNG or JPEG file of at most 10 MB."), true); return; }
      attachmentStatus(a.index, tr("Uploading\u2026"), false);
      var headers = {
        "Content-Type": file.type || "application/octet-stream",
        "X-Paraph-Token": data.token,
        "X-Paraph-Filename": encodeURIComponent(file.name)
      };
      if (data.pin) headers["X-Paraph-Pin"] = data.pin;
      fetch(data.api.attachment + a.index, {
        method: "POST", headers: headers, body: file, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer"
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          if (response.ok && json.ok) {
            attached[a.index] = true;
            attachmentStatus(a.index, tr("Attached: {name}", { name: json.filename }), false);
            return;
          }
          var err = json.error || {};
          var why = (err.fields && err.fields["attachment-" + a.index]) || err.message;
          attachmentStatus(a.index, why ? tr(why) : tr("The file could not be attached."), true);
        });
      }, function () { attachmentStatus(a.index, tr("The server could not be reached. Check your connection and try again."), true); });
    });
  });

  function missingAttachment() {
    return (data.attachments || []).filter(function (a) { return a.required && !attached[a.index]; })[0] || null;
  }

  // ---------------------------------------------------------------- actions
  var busy = false;

  function send(url, body) {
    var headers = { "Content-Type": "application/json", "X-Paraph-Token": data.token };
    if (data.pin) headers["X-Paraph-Pin"] = data.pin;
    return fetch(url, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { ok: response.ok, status: response.status, json: json };
      });
    });
  }

  function submit() {
    if (busy) return;
    mine.forEach(function (f) { if (els[f.api_id]) els[f.api_id].dataset.touched = "1"; });
    refresh();
    var keys = Object.keys(lastProblems);
    if (keys.length) {
      var f = fieldForProblem(keys[0]);
      if (f) goTo(f);
      return;
    }
    var missing = missingAttachment();
    if (missing) {
      var message = tr("Attach \u201c{name}\u201d before signing.", { name: missing.name });
      attachmentStatus(missing.index, message, true);
      showStatus(message);
      byId("pp-attachment-" + missing.index).focus();
      return;
    }
    var values = {};
    var usesImage = { signature: false, initials: false };
    mine.forEach(function (f) {
      if (isHidden(f)) return;
      var v = valueOf(f);
      values[f.api_id] = v;
      if ((f.type === "signature" || f.type === "initials") && v) usesImage[f.type] = true;
    });
    var body = { values: values };
    ["signature", "initials"].forEach(function (kind) {
      var a = adopted[kind];
      if (a && usesImage[kind]) body[kind] = { method: a.method, text: a.text || null, image: a.image || null };
    });
    busy = true;
    byId("pp-submit").disabled = true;
    showStatus(tr("Signing\u2026"));
    send(data.api.submit, body).then(function (r) {
      busy = false;
      byId("pp-submit").disabled = false;
      if (!r.ok) return handleError(r);
      finished = true;
      post("hellosign:userSignRequest", { signatureId: data.signatureId });
      done(tr("Signed"), (data.title ? tr("You signed \u201c{title}\u201d.", { title: data.title }) : tr("You signed the document.")) + " " +
        (r.json.complete ? tr("Every signer has signed: the final document is being prepared.")
          : tr("The other signers will be asked to sign next.")), true);
    }, function () {
      busy = false;
      byId("pp-submit").disabled = false;
      showStatus(tr("The server could not be reached. Check your connection and try again."));
    });
  }

  function handleError(r) {
    var err = (r.json && r.json.error) || {};
    var fieldsWithErrors = err.fields || {};
    if (err.state === "pin") {
      // The PIN pass ran out: the page opens again on the PIN step.
      var url = new URL(window.location.href);
      url.searchParams.delete("pin");
      window.location.replace(url.toString());
      return;
    }
    if (err.state && err.state !== "form") {
      post("hellosign:error", { signatureId: data.signatureId, code: err.state });
      done(tr("Not signed"), err.message ? trError(err) : tr("This document can no longer be signed."), false);
      return;
    }
    serverErrors = {};
    Object.keys(fieldsWithErrors).forEach(function (k) {
      if (fieldById[k]) serverErrors[k] = tr(fieldsWithErrors[k]);
      var m = /^attachment-(\d+)$/.exec(k);
      if (m && byId("pp-attachment-status-" + m[1])) attachmentStatus(m[1], tr(fieldsWithErrors[k]), true);
    });
    showStatus(err.message ? trError(err) : tr("Something went wrong; try again."));
    var first = Object.keys(fieldsWithErrors).map(fieldForProblem).filter(Boolean)[0];
    if (first) goTo(first);
  }

  function done(title, text, signed) {
    byId("pp-main").hidden = true;
    byId("pp-footer").hidden = true;
    ["pp-decline", "pp-reassign"].forEach(function (id) { if (byId(id)) byId(id).hidden = true; });
    var panel = byId("pp-done");
    byId("pp-done-title").textContent = title;
    byId("pp-done-text").textContent = text;
    var cont = byId("pp-done-continue");
    var close = byId("pp-done-close");
    if (signed && data.redirectUrl && !embedded) {
      cont.href = data.redirectUrl;
      cont.hidden = false;
    }
    close.hidden = !embedded;
    panel.hidden = false;
    byId("pp-done-title").focus();
  }

  byId("pp-done-close").addEventListener("click", function () {
    if (data.redirectUrl && finished && window.top !== window) {
      try { window.top.location.href = data.redirectUrl; } catch (e) { /* the parent decides */ }
    }
    post("hellosign:userFinishRequest");
  });

  byId("pp-submit").addEventListener("click", submit);
  byId("pp-next").addEventListener("click", nextField);

  var closeButton = byId("pp-close");
  if (closeButton) closeButton.addEventListener("click", function () { post("hellosign:userCancelRequest"); });

  var declineDialog = byId("pp-decline-dialog");
  if (declineDialog) {
    byId("pp-decline").addEventListener("click", function () {
      byId("pp-decline-error").textContent = "";
      declineDialog.showModal();
      byId("pp-decline-reason").focus();
    });
    byId("pp-decline-cancel").addEventListener("click", function () { declineDialog.close(); });
    byId("pp-decline-confirm").addEventListener("click", function () {
      var reason = byId("pp-decline-reason").value.trim();
      if (!reason) { byId("pp-decline-error").textContent = tr("Say why you decline."); return; }
      if (busy) return;
      busy = true;
      send(data.api.decline, { reason: reason }).then(function (r) {
        busy = false;
        if (!r.ok) {
          byId("pp-decline-error").textContent = r.json.error && r.json.error.message ? trError(r.json.error) : tr("Try again.");
          return;
        }
        declineDialog.close();
        finished = true;
        post("hellosign:userDeclineRequest", { signatureId: data.signatureId, reason: reason });
        done(tr("Declined"), (data.title ? tr("You declined to sign \u201c{title}\u201d.", { title: data.title }) : tr("You declined to sign this document.")) + " " + tr("The sender has been told."), false);
      }, function () { busy = false; byId("pp-decline-error").textContent = tr("The server could not be reached. Check your connection and try again."); });
    });
  }

  var reassignDialog = byId("pp-reassign-dialog");
  if (reassignDialog) {
    byId("pp-reassign").addEventListener("click", function () {
      byId("pp-reassign-error").textContent = "";
      reassignDialog.showModal();
      byId("pp-reassign-name").focus();
    });
    byId("pp-reassign-cancel").addEventListener("click", function () { reassignDialog.close(); });
    byId("pp-reassign-confirm").addEventListener("click", function () {
      var name = byId("pp-reassign-name").value.trim();
      var email = byId("pp-reassign-email").value.trim();
      var reason = byId("pp-reassign-reason").value.trim();
      if (!name || !email) { byId("pp-reassign-error").textContent = tr("Enter their name and email address."); return; }
      if (busy) return;
      busy = true;
      send(data.api.reassign, { name: name, email_address: email, reason: reason }).then(function (r) {
        busy = false;
        if (!r.ok) {
          var err = r.json.error || {};
          var detail = err.fields ? Object.keys(err.fields).map(function (k) { return tr(err.fields[k]); }).join(" ") : "";
          byId("pp-reassign-error").textContent = detail || (err.message ? trError(err) : tr("Try again."));
          return;
        }
        reassignDialog.close();
        finished = true;
        post("hellosign:userReassignRequest", { signatureId: data.signatureId, name: name, email: email, reason: reason });
        done(tr("Reassigned"), tr("{name} ({email}) has been asked to sign in your place.", { name: name, email: email }), false);
      }, function () { busy = false; byId("pp-reassign-error").textContent = tr("The server could not be reached. Check your connection and try again."); });
    });
  }

  // ---------------------------------------------------------------- start
  render();
  buildGuidedBar();
  refresh();
  if (narrow) {
    setGuided(narrow.matches);
    narrow.addEventListener("change", function (e) { setGuided(e.matches); });
  }
  if (embedded) {
    document.body.classList.add("pp-verifying-now");
    startEmbedded(function () { document.body.classList.remove("pp-verifying-now"); });
  }
})();
