/* Paraph editor: place fields on a document's pages (unclaimed drafts, template drafts, the dashboard).
 *
 * Everything comes from the JSON in #paraph-data. Embedded, it speaks hellosign-embedded's v2 postMessage
 * protocol like the signing page (initialize, domain verification, then userSendRequest or
 * userCreateTemplate). The submit posts JSON with the URL's token in the X-Paraph-Token header; the server
 * checks the whole layout again and names the field at fault, shown beside it.
 */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("paraph-data").textContent);
  var byId = function (id) { return document.getElementById(id); };
  Object.keys(data.theme || {}).forEach(function (name) {
    document.documentElement.style.setProperty(name.replace("--pp-", "--ed-"), data.theme[name]);
  });

  // ---------------------------------------------------------------- talking to the parent
  var parentOrigin = null;
  var talking = false;
  var initPayload = data.kind === "template" ? { templateId: data.id } : { signatureRequestId: data.id };

  function originOf(url) { try { return new URL(url).origin; } catch (e) { return null; } }
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
  var verifyNonce = null, onVerified = null;
  function listen() {
    window.addEventListener("message", function (event) {
      if (event.source !== window.parent || event.origin !== parentOrigin) return;
      var msg = event.data;
      if (!msg || typeof msg !== "object" || typeof msg.type !== "string") return;
      var payload = msg.payload || {};
      if (msg.type === "hellosign:verifyDomainResponse" && verifyNonce && payload.token === verifyNonce && onVerified) {
        verifyNonce = null;
        onVerified(hostAllowed(event.origin, data.embedded.domains));
      } else if (msg.type === "hellosign:userCancelRequest") {
        post("hellosign:userCancelRequest");
      }
    });
  }
  function randomToken() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function startEmbedded(ready) {
    var ctx = data.embedded;
    if (!ctx || window.parent === window) { ready(); return; }
    parentOrigin = ctx.parentOrigin || (document.referrer ? originOf(document.referrer) : null);
    if (!parentOrigin) { ready(); return; }
    talking = true;
    listen();
    if (data.state !== "ready") {
      post("hellosign:initialize", initPayload);
      post("hellosign:error", { code: data.state === "domain" ? "domain_not_allowed" : data.state });
      return;
    }
    if (!ctx.verifyDomain) { post("hellosign:initialize", initPayload); ready(); return; }
    var timer = setTimeout(function () {
      verifyNonce = null;
      post("hellosign:initialize", initPayload);
      post("hellosign:error", { code: "domain_verification_failed" });
      fail("The page that embeds this editor could not be verified.");
    }, 10000);
    onVerified = function (ok) {
      clearTimeout(timer);
      post("hellosign:initialize", initPayload);
      if (ok) { ready(); } else {
        post("hellosign:error", { code: "domain_not_allowed" });
        fail("This editor cannot be shown on this site.");
      }
    };
    verifyNonce = randomToken();
    post("hellosign:verifyDomainRequest", { token: verifyNonce });
  }
  function fail(message) {
    document.body.innerHTML = "";
    var main = document.createElement("main");
    main.className = "ed-notice";
    var p = document.createElement("p");
    p.setAttribute("role", "alert");
    p.setAttribute("data-testid", "editor-problem");
    p.textContent = message;
    main.appendChild(p);
    document.body.appendChild(main);
  }

  // Still being processed: the page reloads itself (meta refresh) and talks to the parent once it is ready,
  // well within hellosign-embedded's 30-second wait for initialize.
  if (data.state === "not_ready") return;
  if (data.state !== "ready") { startEmbedded(function () {}); return; }

  // ---------------------------------------------------------------- the model
  var TYPES = [
    ["signature", "Signature", 180, 40], ["initials", "Initials", 70, 35], ["text", "Text", 160, 22],
    ["checkbox", "Checkbox", 14, 14], ["radio", "Radio", 14, 14], ["dropdown", "Dropdown", 140, 22],
    ["date_signed", "Date signed", 110, 22], ["hyperlink", "Hyperlink", 140, 22],
    ["text-merge", "Merge text", 140, 22], ["checkbox-merge", "Merge checkbox", 14, 14]
  ];
  var TYPE = {};
  TYPES.forEach(function (t) { TYPE[t[0]] = { label: t[1], w: t[2], h: t[3] }; });
  var VALIDATIONS = ["", "numbers_only", "letters_only", "phone_number", "bank_routing_number", "bank_account_number",
    "email_address", "zip_code", "social_security_number", "employer_identification_number", "custom_regex"];
  var RULES = ["require_0-1", "require_1", "require_1-ormore"];
  var isTemplate = data.kind === "template";
  // Fields are fixed: a read-only link (nothing is saved) or a preview-only draft (the fields as they are, sent).
  var locked = !!(data.readOnly || data.previewOnly);
  var ME = "me_now";

  var state = {
    fields: (data.fields || []).map(function (f, i) { var c = Object.assign({}, f); c.key = "f" + i; return c; }),
    groups: (data.groups || []).map(function (g) { return Object.assign({}, g); }),
    signers: (data.signers || []).map(function (s) { return Object.assign({}, s); })
  };
  var nextKey = state.fields.length;
  var tool = null, selected = null, zoom = 1, errors = {};
  var undoStack = [], redoStack = [];

  function snapshot() { return JSON.stringify({ fields: state.fields, groups: state.groups, signers: state.signers }); }
  function remember() { undoStack.push(snapshot()); if (undoStack.length > 200) undoStack.shift(); redoStack = []; }
  function restore(text) { var s = JSON.parse(text); state.fields = s.fields; state.groups = s.groups; state.signers = s.signers; if (!find(selected)) selected = null; renderAll(); }
  function undo() { if (!undoStack.length) return; redoStack.push(snapshot()); restore(undoStack.pop()); }
  function redo() { if (!redoStack.length) return; undoStack.push(snapshot()); restore(redoStack.pop()); }
  function find(key) { for (var i = 0; i < state.fields.length; i++) if (state.fields[i].key === key) return state.fields[i]; return null; }

  function signerChoices() {
    if (isTemplate) return (data.roles || []).map(function (r) { return { value: r, label: r }; });
    var list = state.signers.length ? state.signers : [{ name: "Signer 1" }];
    var out = list.map(function (s, i) { return { value: String(i), label: (s.name || "Signer " + (i + 1)) + (s.email_address ? " <" + s.email_address + ">" : "") }; });
    if (data.meNow) out.push({ value: ME, label: "Me (now)" });
    return out;
  }
  function signerValue(value) { return isTemplate || value === ME ? value : Number(value || 0); }
  function signerClass(value) {
    if (value === ME) return "s-me";
    var choices = signerChoices();
    for (var i = 0; i < choices.length; i++) if (choices[i].value === String(value)) return "s" + (i % 4);
    return "s0";
  }

  // ---------------------------------------------------------------- signers and tools
  var signerSelect = byId("ed-signer");
  function renderSigners() {
    var box = byId("ed-signers");
    box.textContent = "";
    if (!isTemplate && data.editSigners) {
      state.signers.forEach(function (s, i) {
        var row = document.createElement("div");
        row.className = "ed-signer-row";
        var name = input("Signer " + (i + 1) + " name", s.name, "editor-signer-name-" + i);
        var email = input("Signer " + (i + 1) + " email", s.email_address, "editor-signer-email-" + i);
        email.type = "email";
        name.addEventListener("change", function () { remember(); s.name = name.value; renderSignerSelect(); });
        email.addEventListener("change", function () { remember(); s.email_address = email.value; renderSignerSelect(); });
        if (errors["signers[" + i + "]"]) { email.setAttribute("aria-invalid", "true"); email.title = errors["signers[" + i + "]"]; }
        row.appendChild(name); row.appendChild(email);
        box.appendChild(row);
      });
      var add = button("Add signer", "editor-add-signer");
      add.addEventListener("click", function () { remember(); state.signers.push({ name: "", email_address: "" }); renderAll(); });
      box.appendChild(add);
    }
    renderSignerSelect();
  }
  function renderSignerSelect() {
    var current = signerSelect.value;
    signerSelect.textContent = "";
    signerChoices().forEach(function (c) {
      var o = document.createElement("option");
      o.value = c.value; o.textContent = c.label;
      signerSelect.appendChild(o);
    });
    if (current && Array.prototype.some.call(signerSelect.options, function (o) { return o.value === current; })) signerSelect.value = current;
    renderToolState();
  }
  signerSelect.addEventListener("change", renderToolState);
  function input(label, value, testid) {
    var el = document.createElement("input");
    el.value = value || ""; el.setAttribute("aria-label", label); el.placeholder = label;
    if (testid) el.setAttribute("data-testid", testid);
    return el;
  }
  function button(text, testid) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "ed-button secondary"; b.textContent = text;
    if (testid) b.setAttribute("data-testid", testid);
    return b;
  }
  var tools = byId("ed-tools");
  TYPES.forEach(function (t) {
    if (!isTemplate && (t[0] === "text-merge" || t[0] === "checkbox-merge")) return;
    var b = button(t[1], "editor-tool-" + t[0]);
    b.setAttribute("aria-pressed", "false");
    b.dataset.type = t[0];
    b.disabled = locked;
    b.draggable = !locked;
    b.addEventListener("click", function () { setTool(tool === t[0] ? null : t[0]); });
    b.addEventListener("dragstart", function (e) {
      if (b.disabled) { e.preventDefault(); return; }
      e.dataTransfer.setData("application/x-paraph-field", t[0]);
      e.dataTransfer.setData("text/plain", t[0]);
      e.dataTransfer.effectAllowed = "copy";
    });
    tools.appendChild(b);
  });
  // Me (now) fills text fields while preparing: it has no signature or initials, nor anything else, to give.
  function renderToolState() {
    var me = signerSelect.value === ME;
    Array.prototype.forEach.call(tools.children, function (b) {
      b.disabled = locked || (me && b.dataset.type !== "text");
      b.draggable = !b.disabled;
    });
    if (tool && me && tool !== "text") setTool(null);
  }
  function setTool(type) {
    if (locked) type = null;
    tool = type;
    Array.prototype.forEach.call(tools.children, function (b) { b.setAttribute("aria-pressed", String(b.dataset.type === type)); });
    Array.prototype.forEach.call(document.querySelectorAll(".ed-page"), function (p) { p.classList.toggle("placing", !!type); });
    status(type ? "Click on a page to place a " + TYPE[type].label.toLowerCase() + " field (Escape to stop)." : "");
  }

  // ---------------------------------------------------------------- pages and fields
  var doc = byId("ed-doc");
  var surfaces = [];
  (data.pages || []).forEach(function (p, i) {
    var page = document.createElement("div");
    page.className = "ed-page";
    page.tabIndex = 0;
    page.setAttribute("data-testid", "editor-page-" + (i + 1));
    page.setAttribute("aria-label", "Page " + (i + 1) + " of " + data.pages.length);
    page.style.aspectRatio = p.width + " / " + p.height;
    var img = document.createElement("img");
    img.src = p.src; img.alt = ""; img.loading = i < 3 ? "eager" : "lazy";
    img.width = Math.round(p.width); img.height = Math.round(p.height);
    page.appendChild(img);
    page.addEventListener("click", function (e) {
      if (!tool || e.target !== page) return;
      var r = page.getBoundingClientRect();
      place(p, (e.clientX - r.left) * p.width / r.width, (e.clientY - r.top) * p.height / r.height);
    });
    page.addEventListener("keydown", function (e) {
      if (e.target === page && e.key === "Enter" && tool) { e.preventDefault(); place(p, 36, 36); }
    });
    // A tool dragged from the toolbar is placed where it is dropped (its top left at the pointer).
    function dropped(e) { return !locked && Array.prototype.indexOf.call(e.dataTransfer.types, "application/x-paraph-field") >= 0; }
    page.addEventListener("dragover", function (e) { if (dropped(e)) { e.preventDefault(); e.dataTransfer.dropEffect = "copy"; page.classList.add("drop-target"); } });
    page.addEventListener("dragleave", function () { page.classList.remove("drop-target"); });
    page.addEventListener("drop", function (e) {
      page.classList.remove("drop-target");
      if (!dropped(e)) return;
      var type = e.dataTransfer.getData("application/x-paraph-field");
      if (!TYPE[type]) return;
      e.preventDefault();
      var r = page.getBoundingClientRect();
      var was = tool;
      tool = type;
      place(p, (e.clientX - r.left) * p.width / r.width, (e.clientY - r.top) * p.height / r.height);
      tool = was;
    });
    doc.appendChild(page);
    surfaces.push({ info: p, el: page });
  });
  function surfaceOf(f) {
    for (var i = 0; i < surfaces.length; i++) {
      var s = surfaces[i].info;
      if (s.document === (f.document_index || 0) && s.page === f.page) return surfaces[i];
    }
    return null;
  }

  function place(p, x, y) {
    var t = TYPE[tool];
    remember();
    var n = ++nextKey;
    var f = { key: "f" + n, type: tool, document_index: p.document, page: p.page,
      x: Math.max(0, Math.min(x, p.width - t.w)), y: Math.max(0, Math.min(y, p.height - t.h)),
      width: t.w, height: t.h, required: tool !== "checkbox", api_id: tool.replace("-", "_") + "_" + n,
      signer: tool.indexOf("merge") > 0 ? "sender" : signerValue(signerSelect.value) };
    if (f.signer === ME && tool !== "text") f.signer = 0;
    if (tool === "dropdown") f.options = ["Option 1", "Option 2"];
    if (tool === "radio") { f.group = "group_1"; ensureGroup("group_1", "require_1"); f.required = true; }
    if (tool === "text-merge" || tool === "checkbox-merge") f.name = (data.mergeFields || [])[0] || "merge_" + n;
    if (tool === "hyperlink") { f.content = "Link"; f.content_url = "https://example.com"; }
    state.fields.push(f);
    selected = f.key;
    renderAll();
    var el = doc.querySelector('[data-key="' + f.key + '"]');
    if (el) el.focus();
  }
  function ensureGroup(id, rule) {
    if (!id) return;
    if (!state.groups.some(function (g) { return g.group_id === id; })) state.groups.push({ group_id: id, requirement: rule, group_label: id });
  }
  function pruneGroups() {
    state.groups = state.groups.filter(function (g) { return state.fields.some(function (f) { return f.group === g.group_id; }); });
  }
  function removeField(f) { if (locked) return; remember(); state.fields = state.fields.filter(function (x) { return x !== f; }); pruneGroups(); selected = null; renderAll(); }
  function duplicate(f) {
    if (locked) return;
    remember();
    var n = ++nextKey;
    var c = JSON.parse(JSON.stringify(f));
    c.key = "f" + n; c.api_id = f.type.replace("-", "_") + "_" + n; c.y = f.y + f.height + 6;
    state.fields.push(c); selected = c.key; renderAll();
  }

  function renderFields() {
    var active = document.activeElement;
    var refocus = !active || active === document.body || (active.classList && active.classList.contains("ed-field"));
    Array.prototype.forEach.call(doc.querySelectorAll(".ed-field"), function (el) { el.remove(); });
    state.fields.forEach(function (f, i) {
      var s = surfaceOf(f);
      if (!s) return;
      var p = s.info;
      var el = document.createElement("div");
      el.className = "ed-field " + signerClass(f.signer) + (selected === f.key ? " selected" : "");
      el.dataset.key = f.key;
      el.tabIndex = 0;
      el.setAttribute("role", "button");
      el.setAttribute("data-testid", "editor-field");
      el.setAttribute("data-type", f.type);
      el.setAttribute("aria-label", TYPE[f.type].label + " field " + (f.name || f.api_id) + " for " + labelOf(f.signer));
      el.style.left = (100 * f.x / p.width) + "%";
      el.style.top = (100 * f.y / p.height) + "%";
      el.style.width = (100 * f.width / p.width) + "%";
      el.style.height = (100 * f.height / p.height) + "%";
      el.textContent = f.width > 30 ? (f.name || TYPE[f.type].label) : "";
      var handle = document.createElement("span");
      handle.className = "ed-handle";
      el.appendChild(handle);
      var err = errors[String(i)];
      if (err) {
        el.setAttribute("aria-invalid", "true");
        var msg = document.createElement("span");
        msg.className = "ed-field-error"; msg.setAttribute("data-testid", "editor-field-error"); msg.textContent = err;
        el.appendChild(msg);
      }
      el.addEventListener("click", function (e) { e.stopPropagation(); select(f.key); });
      el.addEventListener("keydown", function (e) { fieldKey(e, f, p); });
      drag(el, handle, f, s);
      s.el.appendChild(el);
      if (refocus && selected === f.key) el.focus();
    });
  }
  function labelOf(signer) {
    var c = signerChoices().filter(function (x) { return x.value === String(signer); })[0];
    return c ? c.label : String(signer);
  }
  function select(key) {
    selected = key;
    renderFields(); renderProps();
    var el = doc.querySelector('[data-key="' + key + '"]');
    if (el && document.activeElement !== el) el.focus();
  }
  function fieldKey(e, f, p) {
    var step = e.shiftKey ? 10 : 1, handled = true;
    if (e.key === "Delete" || e.key === "Backspace") { removeField(f); return; }
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "d") { e.preventDefault(); duplicate(f); return; }
    var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
    if (moves && locked) handled = false;
    else if (moves) {
      remember();
      if (e.altKey) { f.width = Math.max(8, f.width + moves[0]); f.height = Math.max(8, f.height + moves[1]); }
      else { f.x = clamp(f.x + moves[0], 0, p.width - f.width); f.y = clamp(f.y + moves[1], 0, p.height - f.height); }
    } else if (e.key === "Enter" || e.key === " ") { select(f.key); var first = byId("ed-props").querySelector("select, input"); if (first) first.focus(); }
    else handled = false;
    if (handled) { e.preventDefault(); select(f.key); }
  }
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
  function drag(el, handle, f, s) {
    el.addEventListener("pointerdown", function (e) {
      if (locked || e.button > 0) return;
      e.preventDefault(); e.stopPropagation();
      var resizing = e.target === handle;
      var r = s.el.getBoundingClientRect(), p = s.info, k = p.width / r.width;
      var start = { x: e.clientX, y: e.clientY, fx: f.x, fy: f.y, fw: f.width, fh: f.height }, moved = false;
      el.setPointerCapture(e.pointerId);
      function move(ev) {
        var dx = (ev.clientX - start.x) * k, dy = (ev.clientY - start.y) * k;
        if (!moved && Math.abs(dx) + Math.abs(dy) < 2) return;
        if (!moved) { remember(); moved = true; }
        if (resizing) { f.width = Math.max(8, start.fw + dx); f.height = Math.max(8, start.fh + dy); }
        else { f.x = clamp(start.fx + dx, 0, p.width - f.width); f.y = clamp(start.fy + dy, 0, p.height - f.height); }
        el.style.left = (100 * f.x / p.width) + "%"; el.style.top = (100 * f.y / p.height) + "%";
        el.style.width = (100 * f.width / p.width) + "%"; el.style.height = (100 * f.height / p.height) + "%";
      }
      function up() { el.removeEventListener("pointermove", move); el.removeEventListener("pointerup", up); select(f.key); }
      el.addEventListener("pointermove", move);
      el.addEventListener("pointerup", up);
    });
  }

  // ---------------------------------------------------------------- properties of the selected field
  function renderProps() {
    var box = byId("ed-props");
    box.textContent = "";
    var f = find(selected);
    if (!f) { var hint = document.createElement("p"); hint.className = "ed-hint"; hint.textContent = "No field selected."; box.appendChild(hint); return; }
    function row(label, el) { var l = document.createElement("label"); l.textContent = label; var id = "ed-p-" + label.toLowerCase().replace(/\W+/g, "-"); el.id = id; l.htmlFor = id; box.appendChild(l); box.appendChild(el); return el; }
    function change(el, fn) { el.addEventListener("change", function () { remember(); fn(el); renderFields(); }); }
    var title = document.createElement("p"); title.textContent = TYPE[f.type].label; box.appendChild(title);
    if (f.signer !== "sender") {
      var who = document.createElement("select");
      who.setAttribute("data-testid", "editor-prop-signer");
      signerChoices().forEach(function (c) { var o = document.createElement("option"); o.value = c.value; o.textContent = c.label; who.appendChild(o); });
      who.value = String(f.signer);
      row("Signer", who);
      Array.prototype.forEach.call(who.options, function (o) { o.disabled = o.value === ME && f.type !== "text"; });
      change(who, function (el) { f.signer = signerValue(el.value); renderProps(); });
    }
    if (f.signer === ME && f.type === "text") {
      var value = input("Value (filled now)", f.content, "editor-prop-value"); row("Value (filled now)", value);
      change(value, function (el) { f.content = el.value; });
    }
    var req = document.createElement("input"); req.type = "checkbox"; req.checked = f.required !== false;
    req.setAttribute("data-testid", "editor-prop-required");
    row("Required", req); change(req, function (el) { f.required = el.checked; });
    var name = input("Label", f.name, "editor-prop-label");
    if (isTemplate && f.type.indexOf("merge") > 0 && (data.mergeFields || []).length) {
      name = document.createElement("select");
      name.setAttribute("data-testid", "editor-prop-merge-field");
      data.mergeFields.forEach(function (m) { var o = document.createElement("option"); o.value = m; o.textContent = m; name.appendChild(o); });
      name.value = f.name || data.mergeFields[0];
      row("Merge field", name);
    } else row("Label", name);
    change(name, function (el) { f.name = el.value || null; });
    var api = input("API id", f.api_id, "editor-prop-api-id"); row("API id", api);
    change(api, function (el) { f.api_id = el.value; });
    if (f.type === "text") {
      var v = document.createElement("select"); v.setAttribute("data-testid", "editor-prop-validation");
      VALIDATIONS.forEach(function (x) { var o = document.createElement("option"); o.value = x; o.textContent = x || "none"; v.appendChild(o); });
      v.value = f.validation_type || ""; row("Validation", v);
      change(v, function (el) { f.validation_type = el.value || null; renderProps(); });
      if (f.validation_type === "custom_regex") {
        var rx = input("Pattern", f.validation_custom_regex, "editor-prop-regex"); row("Pattern", rx);
        change(rx, function (el) { f.validation_custom_regex = el.value; });
      }
    }
    if (["text", "dropdown", "date_signed", "hyperlink", "text-merge"].indexOf(f.type) >= 0) {
      var size = input("Font size", f.font_size || 12, "editor-prop-font-size"); size.type = "number"; size.min = 7; size.max = 49;
      row("Font size", size); change(size, function (el) { f.font_size = Number(el.value) || 12; });
    }
    if (f.type === "dropdown") {
      var opts = document.createElement("textarea"); opts.rows = 3; opts.value = (f.options || []).join("\n");
      opts.setAttribute("data-testid", "editor-prop-options");
      row("Options (one a line)", opts);
      change(opts, function (el) { f.options = el.value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean); });
    }
    if (f.type === "checkbox" || f.type === "radio") {
      var g = input("Group", f.group, "editor-prop-group"); row("Group", g);
      change(g, function (el) { f.group = el.value.trim() || null; ensureGroup(f.group, f.type === "radio" ? "require_1" : "require_0-1"); pruneGroups(); renderProps(); });
      var group = state.groups.filter(function (x) { return x.group_id === f.group; })[0];
      if (group) {
        var rule = document.createElement("select"); rule.setAttribute("data-testid", "editor-prop-group-rule");
        RULES.forEach(function (x) { var o = document.createElement("option"); o.value = x; o.textContent = x; rule.appendChild(o); });
        rule.value = group.requirement; row("Group rule", rule);
        change(rule, function (el) { group.requirement = el.value; });
      }
    }
    if (locked) Array.prototype.forEach.call(box.querySelectorAll("input, select, textarea"), function (el) { el.disabled = true; });
    var actions = document.createElement("p");
    var dup = button("Duplicate", "editor-duplicate"); dup.addEventListener("click", function () { duplicate(f); });
    var del = button("Delete", "editor-delete"); del.addEventListener("click", function () { removeField(f); });
    actions.appendChild(dup); actions.appendChild(del);
    if (!locked) box.appendChild(actions);
    var err = errors[String(state.fields.indexOf(f))];
    if (err) { var e = document.createElement("p"); e.className = "ed-status bad"; e.setAttribute("role", "alert"); e.textContent = err; box.appendChild(e); }
  }

  function renderAll() { renderSigners(); renderFields(); renderProps(); }

  // ---------------------------------------------------------------- keyboard, zoom, submit
  document.addEventListener("keydown", function (e) {
    var mod = e.ctrlKey || e.metaKey, k = e.key.toLowerCase();
    var typing = /INPUT|TEXTAREA|SELECT/.test((e.target && e.target.tagName) || "");
    if (mod && k === "z" && !typing) { e.preventDefault(); if (e.shiftKey) redo(); else undo(); }
    else if (mod && k === "y" && !typing) { e.preventDefault(); redo(); }
    else if (e.key === "Escape") setTool(null);
  });
  byId("ed-undo").addEventListener("click", undo);
  byId("ed-redo").addEventListener("click", redo);
  function setZoom(z) { zoom = clamp(z, 0.5, 2.5); document.documentElement.style.setProperty("--ed-page-width", Math.round(816 * zoom) + "px"); }
  byId("ed-zoom-in").addEventListener("click", function () { setZoom(zoom + 0.25); });
  byId("ed-zoom-out").addEventListener("click", function () { setZoom(zoom - 0.25); });
  byId("ed-subject").value = data.subject || "";
  byId("ed-message").value = data.message || "";

  function status(text, bad) { var s = byId("ed-status"); s.textContent = text || ""; s.classList.toggle("bad", !!bad); }

  var submitting = false;
  byId("ed-submit").addEventListener("click", function () {
    if (submitting || data.readOnly) return;
    submitting = true;
    status("Sending…");
    var body = {
      fields: state.fields.map(function (f) { var c = Object.assign({}, f); delete c.key; return c; }),
      groups: state.groups,
      signers: isTemplate ? [] : state.signers.map(function (s) { return { name: s.name || "", email_address: s.email_address || "" }; }),
      subject: byId("ed-subject").value,
      message: byId("ed-message").value
    };
    fetch(data.submitUrl, {
      method: "POST", headers: { "Content-Type": "application/json", "X-Paraph-Token": data.token },
      body: JSON.stringify(body), credentials: "same-origin"
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, body: j }; });
    }).then(function (res) {
      submitting = false;
      if (!res.ok) {
        errors = res.body.fields || {};
        var msg = (res.body.error && res.body.error.error_msg) || "The layout could not be saved.";
        status(msg, true);
        var at = Object.keys(errors).filter(function (k) { return /^\d+$/.test(k); })[0];
        if (at !== undefined && state.fields[Number(at)]) select(state.fields[Number(at)].key); else renderAll();
        return;
      }
      errors = {};
      done(res.body);
    }).catch(function () { submitting = false; status("The server could not be reached; try again.", true); });
  });

  function done(body) {
    if (isTemplate) {
      post("hellosign:userCreateTemplate", {
        templateId: body.templateId, title: body.template && body.template.title,
        message: body.template && body.template.message, signerRoles: data.roles, signatureRequestInfo: {}
      });
    } else {
      post("hellosign:userSendRequest", { signatureRequestId: body.signatureRequestId });
    }
    document.querySelector(".ed-layout").hidden = true;
    byId("ed-done").hidden = false;
    byId("ed-done-text").textContent = isTemplate ? "The template is saved." : (data.holdRequest ? "The request is ready and held until it is released." : "The request is sent.");
    byId("ed-done-title").focus();
    status("");
    if (!data.redirectUrl) return;
    if (!talking) { window.location.assign(data.redirectUrl); return; }
    // Embedded: the integrator's requesting_redirect_url (or the library's redirectTo) replaces its page, once
    // the library has heard of the send; the link is there should the browser refuse the navigation.
    var cont = byId("ed-done-continue");
    cont.href = data.redirectUrl;
    cont.hidden = false;
    setTimeout(function () { try { window.top.location.href = data.redirectUrl; } catch (e) { /* the link stays */ } }, 400);
  }

  startEmbedded(function () { renderAll(); });
})();
