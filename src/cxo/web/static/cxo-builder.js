/* Survey builder (ADR 0008): a form over the survey definition, and the YAML view of the same.
 *
 * The page embeds the definition as JSON (#builder-data). The form edits that data in place, so
 * keys it has no field for are kept, and after every change writes it as YAML into the
 * `definition` textarea: saving and the live check post that field, as the YAML view always did.
 * Going back from the YAML view, the server reads the YAML (POST /surveys/form-data).
 * Every string shown comes translated from the server (messages, keyed by the English text).
 */
(function () {
  "use strict";

  var area = document.getElementById("definition");

  // --- YAML view: palette buttons append a snippet to the definition -------------------------
  document.querySelectorAll("button.snippet").forEach(function (b) {
    b.addEventListener("click", function () {
      var text = area.value.replace(/\s*$/, "\n");
      area.value = text + b.dataset.snippet;
      area.focus();
      area.dispatchEvent(new Event("keyup"));
    });
  });

  var toYaml = window.cxoYaml.dump;

  var bootEl = document.getElementById("builder-data");
  if (!bootEl || !area) return;
  var boot = JSON.parse(bootEl.textContent);
  var M = boot.messages;
  function t(s, params) {
    var out = Object.prototype.hasOwnProperty.call(M, s) ? M[s] : s;
    if (params) out = out.replace(/%\((\w+)\)s/g, function (m, k) { return k in params ? String(params[k]) : m; });
    return out;
  }

  var LOCALES = boot.locales;
  var UI_LOCALE = document.documentElement.lang === "zh-CN" ? "zh_CN" : "en";
  var LIB = {};
  boot.library.forEach(function (i) { LIB[i.code] = i; });
  var TYPES = ["single", "multiple", "rating", "matrix", "slider", "text"];
  var TYPE_LABELS = {
    single: t("Single choice"), multiple: t("Multiple choice"), rating: t("Rating"),
    matrix: t("Matrix"), slider: t("Slider"), text: t("Free text")
  };
  // the keys each type uses; the rest of a question's keys are kept whatever the type
  var TYPE_KEYS = {
    single: ["options"], multiple: ["options", "min_choices", "max_choices"],
    rating: ["min", "max", "labels"], matrix: ["min", "max", "labels", "rows", "randomize_rows"],
    slider: ["min", "max", "step", "labels"], text: ["max_length"]
  };
  var ALL_TYPE_KEYS = ["options", "min_choices", "max_choices", "min", "max", "step", "labels", "rows", "randomize_rows", "max_length"];
  var OPS = [
    ["eq", t("equals")], ["ne", t("does not equal")], ["lt", t("is less than")], ["le", t("is at most")],
    ["gt", t("is more than")], ["ge", t("is at least")], ["in", t("is one of")], ["not_in", t("is none of")],
    ["answered", t("is answered")], ["not_answered", t("is not answered")]
  ];

  var formView = document.getElementById("form-view");
  var yamlView = document.getElementById("yaml-view");
  var palette = document.getElementById("palette");
  var layout = document.getElementById("builder-layout");
  var switcher = document.getElementById("view-switch");
  var showForm = document.getElementById("show-form");
  var showYaml = document.getElementById("show-yaml");
  var problem = document.getElementById("view-problem");
  var savebar = document.getElementById("savebar");

  var model = boot.definition;   // the definition being edited (null: the form cannot show it)
  var synced = area.value;       // the YAML text that says what `model` says
  var history = [];              // snapshots before each change of structure, for Undo
  var stash = new WeakMap();     // what a question had before its type changed
  var uid = 0;
  // a definition that came back from a failed save is not saved either
  var unsaved = !!document.getElementById("save-error");

  // --- small DOM helpers ----------------------------------------------------------------------
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k === "on") Object.keys(v).forEach(function (e) { node.addEventListener(e, v[e]); });
      else if (k === "value" || k === "checked") node[k] = v;
      else node.setAttribute(k, v === true ? "" : v);
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      node.append(c);
    }
    return node;
  }
  function nid() { uid += 1; return "fb" + uid; }
  function isObj(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function arr(v) { return Array.isArray(v) ? v : []; }
  function clone(v) { return JSON.parse(JSON.stringify(v)); }
  function button(label, key, onClick, attrs) {
    return el("button", Object.assign({ type: "button", "data-key": key, text: label, on: { click: onClick } }, attrs || {}));
  }
  function field(label, control, hint) {
    control.id = control.id || nid();
    var wrap = el("div", { class: "field" }, el("label", { for: control.id, text: label }), control);
    if (hint) {
      var hid = nid();
      wrap.append(el("p", { class: "meta hint", id: hid, text: hint }));
      control.setAttribute("aria-describedby", hid);
    }
    return wrap;
  }
  function langLabel(label, loc) { return t("%(field)s (%(language)s)", { field: label, language: t(loc) }); }

  // --- keeping the YAML in step ----------------------------------------------------------------
  function changed() {
    area.value = toYaml(model);
    synced = area.value;
    unsaved = true;
    area.dispatchEvent(new Event("cxo-change"));
  }
  function announce(message) {
    status.textContent = message;
  }
  function snapshot() {
    history.push(JSON.stringify(model));
    if (history.length > 100) history.shift();
    undoButton.disabled = false;
  }
  // a change of structure: remember the old state, draw the form again, focus `focusKey`
  function restructure(fn, message) {
    snapshot();
    var focusKey = fn();
    changed();
    render(focusKey);
    if (message) announce(message);
  }

  // --- wording in each language ----------------------------------------------------------------
  // Required wordings stay a (possibly empty) mapping so the check says what is missing;
  // optional ones disappear when both languages are empty.
  function textInputs(owner, key, label, opts) {
    opts = opts || {};
    var wrap = el("div", { class: "pair" });
    LOCALES.forEach(function (loc) {
      var cur = isObj(owner[key]) && typeof owner[key][loc] === "string" ? owner[key][loc] : "";
      var control = opts.multiline
        ? el("textarea", { rows: 2, lang: loc === "zh_CN" ? "zh-CN" : "en", "data-key": opts.key ? opts.key + ":" + loc : null })
        : el("input", { type: "text", lang: loc === "zh_CN" ? "zh-CN" : "en", "data-key": opts.key ? opts.key + ":" + loc : null });
      control.value = cur;
      control.addEventListener("input", function () {
        var v = control.value;
        if (v === "") {
          if (isObj(owner[key])) {
            delete owner[key][loc];
            if (!opts.required && Object.keys(owner[key]).length === 0) delete owner[key];
          }
        } else {
          var old = isObj(owner[key]) ? owner[key] : {};
          var next = {};
          // en before zh_CN, then whatever else the mapping held
          LOCALES.forEach(function (l) { if (l === loc) next[l] = v; else if (l in old) next[l] = old[l]; });
          Object.keys(old).forEach(function (k) { if (!(k in next)) next[k] = old[k]; });
          owner[key] = next;
        }
        if (opts.onInput) opts.onInput();
        changed();
      });
      wrap.append(field(langLabel(label, loc), control));
    });
    return wrap;
  }
  function checkbox(owner, key, label, key2) {
    var box = el("input", { type: "checkbox", "data-key": key2 });
    box.checked = owner[key] === true;
    box.addEventListener("change", function () {
      if (box.checked) owner[key] = true; else delete owner[key];
      changed();
    });
    return el("label", { class: "check" }, box, " ", label);
  }
  function numberInput(owner, key, label, opts) {
    opts = opts || {};
    var input = el("input", { type: "number", step: opts.step || "any", inputmode: "decimal", class: "num-input", "data-key": opts.key });
    input.value = typeof owner[key] === "number" ? String(owner[key]) : owner[key] === undefined ? "" : String(owner[key]);
    input.addEventListener("input", function () {
      if (input.value === "") delete owner[key];
      else {
        var n = Number(input.value);
        if (!isFinite(n)) return;
        owner[key] = n;
      }
      changed();
      if (opts.onInput) opts.onInput();
    });
    return field(label, input, opts.hint);
  }
  function codeInput(owner, key, label, opts) {
    opts = opts || {};
    var input = el("input", {
      type: "text", class: "code-input", autocapitalize: "none", spellcheck: "false",
      "data-key": opts.key, readonly: opts.readonly || null
    });
    input.value = typeof owner[key] === "string" ? owner[key] : owner[key] === undefined ? "" : String(owner[key]);
    input.addEventListener("input", function () {
      owner[key] = input.value;
      changed();
      if (opts.onInput) opts.onInput(input.value);
    });
    return field(label, input, opts.hint);
  }

  // --- codes: what a question answers, and new codes that are free ----------------------------
  function libScales(block, inst) {
    if (Array.isArray(block.scales)) return block.scales;
    if (typeof block.variant === "string" && inst.variants[block.variant]) return inst.variants[block.variant];
    return inst.default_scales;
  }
  function libItems(block, inst) {
    if (!Array.isArray(block.items)) return inst.items;
    return inst.items.filter(function (i) { return block.items.indexOf(i.code) >= 0; });
  }
  function wordingOf(text) {
    if (!isObj(text)) return "";
    return text[UI_LOCALE] || text.en || text.zh_CN || "";
  }
  function short(s) { return s.length > 50 ? s.slice(0, 49) + "…" : s; }
  // The codes a show_if may refer to that an entry answers, with a label and the answers' range.
  function answerCodes(entry) {
    if (!isObj(entry)) return [];
    if (typeof entry.use === "string") {
      var inst = LIB[entry.use];
      if (!inst) return [];
      var items = libItems(entry, inst), scales = libScales(entry, inst);
      var range = scales.map(function (s) { return inst.ranges[s]; }).filter(Boolean)[0];
      var hint = range ? range[0] + "–" + range[1] : "";
      return items.map(function (i) { return { code: i.code, label: short(i.text || ""), hint: hint }; });
    }
    var code = typeof entry.code === "string" ? entry.code : "";
    if (!code) return [];
    if (entry.type === "matrix") {
      var mh = entry.min !== undefined && entry.max !== undefined ? entry.min + "–" + entry.max : "";
      return arr(entry.rows).filter(isObj).map(function (r) { return { code: String(r.code || ""), label: short(wordingOf(r.text)), hint: mh }; })
        .filter(function (r) { return r.code; });
    }
    var h = "";
    if (entry.type === "single" || entry.type === "multiple") {
      h = arr(entry.options).filter(isObj).map(function (o) { return o.value + " = " + wordingOf(o.label); }).join(", ");
    } else if (entry.type === "rating" || entry.type === "slider") {
      h = entry.min !== undefined && entry.max !== undefined ? entry.min + "–" + entry.max : "";
    }
    return [{ code: code, label: short(wordingOf(entry.text)), hint: h }];
  }
  function allCodes() {
    var used = new Set();
    arr(model.pages).forEach(function (p) {
      arr(isObj(p) ? p.questions : null).forEach(function (q) {
        if (!isObj(q)) return;
        if (typeof q.code === "string") used.add(q.code);
        arr(q.rows).forEach(function (r) { if (isObj(r)) used.add(String(r.code)); });
        answerCodes(q).forEach(function (c) { used.add(c.code); });
      });
    });
    return used;
  }
  function freeCode(base, used) {
    base = base.slice(0, 34);
    if (!used.has(base)) { used.add(base); return base; }
    for (var n = 2; ; n++) {
      var c = base + "_" + n;
      if (!used.has(c)) { used.add(c); return c; }
    }
  }
  function newQuestionCode(used) {
    for (var n = 1; ; n++) {
      if (!used.has("q" + n)) { used.add("q" + n); return "q" + n; }
    }
  }

  // --- questions --------------------------------------------------------------------------------
  function newEntry(kind) {
    if (kind.indexOf("use:") === 0) return { use: kind.slice(4) };
    var type = kind.slice(5), used = allCodes();
    var q = { code: newQuestionCode(used), type: type, text: {} };
    fillType(q, type, used);
    return q;
  }
  function fillType(q, type, used) {
    var old = stash.get(q) || {};
    function get(k, dflt) { return k in old ? old[k] : dflt; }
    if (type === "single" || type === "multiple") {
      q.options = get("options", [{ value: 1, label: {} }, { value: 2, label: {} }]);
    }
    if (type === "rating" || type === "matrix") { q.min = get("min", 1); q.max = get("max", 5); }
    if (type === "slider") { q.min = get("min", 0); q.max = get("max", 100); }
    if (type === "matrix") {
      q.rows = get("rows", [{ code: freeCode((q.code || "row") + "_1", used || allCodes()), text: {} }]);
    }
    TYPE_KEYS[type].forEach(function (k) { if (!(k in q) && k in old) q[k] = old[k]; });
  }
  function setType(q, type) {
    var old = stash.get(q) || {};
    ALL_TYPE_KEYS.forEach(function (k) {
      if (k in q && TYPE_KEYS[type].indexOf(k) < 0) { old[k] = q[k]; delete q[k]; }
    });
    stash.set(q, old);
    q.type = type;
    fillType(q, type);
  }
  function duplicateEntry(entry, used) {
    var copy = clone(entry);
    if (typeof copy.use === "string") return copy;
    if (typeof copy.code === "string") copy.code = freeCode(copy.code + "_copy", used);
    arr(copy.rows).forEach(function (r) { if (isObj(r) && typeof r.code === "string") r.code = freeCode(r.code + "_copy", used); });
    return copy;
  }

  function questionCard(page, pi, qi) {
    var qs = page.questions, q = qs[qi], path = pi + "." + qi, k = "q:" + path;
    var legendId = nid();
    var lib = isObj(q) && typeof q.use === "string";
    var inst = lib ? LIB[q.use] : null;
    function what() {
      if (lib) return t("From the library: %(title)s", { title: inst ? inst.title : q.use });
      return (q.code || "") + " · " + (TYPE_LABELS[q.type] || q.type || "");
    }
    var legend = el("legend", { id: legendId, text: t("Question %(n)s · %(what)s", { n: qi + 1, what: what() }) });
    function relabel() { legend.textContent = t("Question %(n)s · %(what)s", { n: qi + 1, what: what() }); }
    var card = el("fieldset", { class: "question", "data-path": path }, legend);
    if (!isObj(q)) return card;

    if (lib) {
      if (!inst) card.append(el("p", { class: "error", text: t("The library has no instrument %(code)s.", { code: q.use }) }));
      else libraryFields(card, q, inst, k);
    } else {
      customFields(card, q, k, relabel);
    }
    card.append(skipLogic(q, pi, k));

    var first = pi === 0 && qi === 0, last = pi === model.pages.length - 1 && qi === qs.length - 1;
    var tools = el("div", { class: "tools-row" },
      button(t("Move up"), k + ":up", function () { moveQuestion(pi, qi, -1); }, { disabled: first, "aria-describedby": legendId }),
      button(t("Move down"), k + ":down", function () { moveQuestion(pi, qi, 1); }, { disabled: last, "aria-describedby": legendId }),
      button(t("Duplicate"), k + ":dup", function () {
        restructure(function () {
          qs.splice(qi + 1, 0, duplicateEntry(q, allCodes()));
          return "q:" + pi + "." + (qi + 1) + ":first";
        }, t("Question duplicated."));
      }, { "aria-describedby": legendId }),
      button(t("Delete"), k + ":del", function () {
        restructure(function () {
          qs.splice(qi, 1);
          return qs.length ? "q:" + pi + "." + Math.min(qi, qs.length - 1) + ":first" : "p:" + pi + ":add";
        }, t("Question deleted."));
      }, { "aria-describedby": legendId, class: "danger" })
    );
    card.append(tools);
    return card;
  }

  function moveQuestion(pi, qi, delta) {
    restructure(function () {
      var pages = model.pages, qs = pages[pi].questions, q = qs[qi];
      var np = pi, nq = qi + delta;
      if (nq < 0) {  // to the end of the page before
        np = pi - 1; qs.splice(qi, 1);
        if (!Array.isArray(pages[np].questions)) pages[np].questions = [];
        pages[np].questions.push(q); nq = pages[np].questions.length - 1;
      } else if (nq >= qs.length) {  // to the start of the page after
        np = pi + 1; qs.splice(qi, 1);
        if (!Array.isArray(pages[np].questions)) pages[np].questions = [];
        pages[np].questions.unshift(q); nq = 0;
      } else {
        qs.splice(qi, 1); qs.splice(nq, 0, q);
      }
      announceLater = t("Question moved: page %(page)s, position %(n)s.", { page: np + 1, n: nq + 1 });
      var atTop = np === 0 && nq === 0, atEnd = np === pages.length - 1 && nq === pages[np].questions.length - 1;
      var dir = delta < 0 ? (atTop ? "down" : "up") : (atEnd ? "up" : "down");
      return "q:" + np + "." + nq + ":" + dir;
    });
    announce(announceLater);
  }
  var announceLater = "";

  function customFields(card, q, k, relabel) {
    var top = el("div", { class: "row" });
    top.append(codeInput(q, "code", t("Code"), {
      key: k + ":first", hint: t("Letters a–z, digits and _, starting with a letter; at most 40 characters."),
      onInput: relabel
    }));
    var typeSel = el("select", { "data-key": k + ":type" });
    var curType = typeof q.type === "string" ? q.type : "";
    var types = TYPES.indexOf(curType) >= 0 ? TYPES : TYPES.concat([curType]);
    types.forEach(function (ty) { typeSel.append(el("option", { value: ty, text: TYPE_LABELS[ty] || ty || "—" })); });
    typeSel.value = curType;
    typeSel.addEventListener("change", function () {
      if (TYPES.indexOf(typeSel.value) < 0) return;
      restructure(function () { setType(q, typeSel.value); return k + ":type"; });
    });
    top.append(field(t("Type"), typeSel));
    card.append(top);
    card.append(textInputs(q, "text", t("Wording"), { required: true, multiline: true, key: k + ":text" }));
    card.append(checkbox(q, "required", t("Required"), k + ":required"));
    if (q.type === "single" || q.type === "multiple") card.append(optionsEditor(q, k));
    if (q.type === "rating" || q.type === "matrix" || q.type === "slider") card.append(scaleEditor(q, k));
    if (q.type === "matrix") card.append(rowsEditor(q, k));
    if (q.type === "text") card.append(el("div", { class: "row" }, numberInput(q, "max_length", t("Maximum length (characters)"), { step: 1, key: k + ":maxlen" })));
    var help = el("details", { class: "help", open: isObj(q.help) || null },
      el("summary", { text: t("Help text") }),
      textInputs(q, "help", t("Help text"), { multiline: true }));
    card.append(help);
  }

  // one editable list (options, rows, scale labels) with move and remove buttons per entry;
  // o: {legend, list, key, rowName, draw(group, item, i, key), add(), addLabel, movable, after()}
  function listEditor(o) {
    var list = o.list, k = o.key, after = o.after || function () {};
    var fs = el("fieldset", { class: "sub" }, el("legend", { text: o.legend }));
    var ol = el("ol", { class: "entries" });
    list.forEach(function (item, i) {
      var name = t(o.rowName, { n: i + 1 });
      var li = el("li", { class: "entry" });
      var grp = el("div", { class: "row", role: "group", "aria-label": name });
      o.draw(grp, item, i, k + ":" + i);
      var tools = el("div", { class: "tools-row" });
      if (o.movable !== false) {
        tools.append(button(t("Move up"), k + ":" + i + ":up", function () {
          restructure(function () { list.splice(i - 1, 0, list.splice(i, 1)[0]); after(); return k + ":" + (i - 1) + ":up"; });
        }, { disabled: i === 0, "aria-label": t("Move up") + " — " + name }),
        button(t("Move down"), k + ":" + i + ":down", function () {
          restructure(function () { list.splice(i + 1, 0, list.splice(i, 1)[0]); after(); return k + ":" + (i + 1) + ":down"; });
        }, { disabled: i === list.length - 1, "aria-label": t("Move down") + " — " + name }));
      }
      tools.append(button(t("Remove"), k + ":" + i + ":del", function () {
        restructure(function () {
          list.splice(i, 1);
          after();
          return list.length ? k + ":" + Math.min(i, list.length - 1) + ":del" : k + ":add";
        });
      }, { "aria-label": t("Remove") + " — " + name, class: "danger" }));
      li.append(grp, tools);
      ol.append(li);
    });
    fs.append(ol, button(o.addLabel, k + ":add", function () {
      restructure(function () { o.add(); after(); return k + ":" + (list.length - 1) + ":0"; });
    }));
    return fs;
  }

  function optionsEditor(q, k) {
    if (!Array.isArray(q.options)) q.options = arr(q.options);
    var list = q.options;
    var fs = listEditor({
      legend: t("Options"), list: list, key: k + ":opt", rowName: "Option %(n)s", addLabel: t("Add option"),
      draw: function (grp, o, i, rk) {
        if (!isObj(o)) return;
        grp.append(numberInput(o, "value", t("Answer value"), { step: 1, key: rk + ":0" }));
        grp.append(textInputs(o, "label", t("Label"), { required: true }));
      },
      add: function () {
        var max = list.reduce(function (m, o) { return isObj(o) && typeof o.value === "number" ? Math.max(m, o.value) : m; }, 0);
        list.push({ value: Math.floor(max) + 1, label: {} });
      }
    });
    fs.insertBefore(el("p", { class: "meta", text: t("The value is what an answer stores; labels are what respondents read.") }), fs.children[1]);
    if (q.type === "multiple") {
      fs.append(el("div", { class: "row" },
        numberInput(q, "min_choices", t("Choose at least"), { step: 1, key: k + ":minc" }),
        numberInput(q, "max_choices", t("Choose at most"), { step: 1, key: k + ":maxc" })));
    }
    return fs;
  }

  function scaleEditor(q, k) {
    var fs = el("fieldset", { class: "sub" }, el("legend", { text: t("Scale") }));
    fs.append(el("div", { class: "row" },
      numberInput(q, "min", t("Lowest value"), { step: q.type === "slider" ? "any" : 1, key: k + ":min" }),
      numberInput(q, "max", t("Highest value"), { step: q.type === "slider" ? "any" : 1, key: k + ":max" }),
      q.type === "slider" ? numberInput(q, "step", t("Step"), { key: k + ":step" }) : null));
    // labels is a mapping point → wording; edited as a list, written back in point order
    var labels = isObj(q.labels) ? q.labels : {};
    var entries = Object.keys(labels).map(function (p) { return { point: p, text: labels[p] }; });
    function write() {
      var next = {};
      entries.forEach(function (e) { next[e.point] = e.text; });
      if (Object.keys(next).length) q.labels = next; else delete q.labels;
    }
    // (a mapping keeps whole-number keys in numeric order, so labels have no move buttons)
    fs.append(listEditor({
      legend: t("Scale labels"), list: entries, key: k + ":lab", rowName: "Label %(n)s", addLabel: t("Add label"),
      movable: false, after: write,
      draw: function (grp, e, i, rk) {
        var point = el("input", { type: "number", step: 1, class: "num-input", "data-key": rk + ":0" });
        point.value = e.point;
        point.addEventListener("input", function () {
          var v = point.value.trim();
          if (!/^-?\d+$/.test(v) || entries.some(function (o, j) { return j !== i && o.point === String(Number(v)); })) return;
          e.point = String(Number(v));
          write();
          changed();
        });
        grp.append(field(t("Point"), point));
        grp.append(textInputs(e, "text", t("Label"), { required: true, onInput: write }));
      },
      add: function () {
        var used = entries.map(function (e) { return Number(e.point); });
        var lo = typeof q.min === "number" ? q.min : 1, hi = typeof q.max === "number" ? q.max : lo;
        var p = used.indexOf(lo) < 0 ? lo : used.indexOf(hi) < 0 ? hi : Math.max.apply(null, used.concat([lo])) + 1;
        entries.push({ point: String(Math.round(p)), text: {} });
      }
    }));
    return fs;
  }

  function rowsEditor(q, k) {
    if (!Array.isArray(q.rows)) q.rows = arr(q.rows);
    var list = q.rows;
    var fs = listEditor({
      legend: t("Rows (statements)"), list: list, key: k + ":row", rowName: "Row %(n)s", addLabel: t("Add row"),
      draw: function (grp, r, i, rk) {
        if (!isObj(r)) return;
        grp.append(codeInput(r, "code", t("Row code"), { key: rk + ":0" }));
        grp.append(textInputs(r, "text", t("Statement"), { required: true }));
      },
      add: function () {
        list.push({ code: freeCode((q.code || "row") + "_" + (list.length + 1), allCodes()), text: {} });
      }
    });
    fs.append(checkbox(q, "randomize_rows", t("Random row order"), k + ":rr"));
    return fs;
  }

  function libraryFields(card, b, inst, k) {
    if (inst.scales.length > 1) {
      var chosen = libScales(b, inst);
      var fs = el("fieldset", { class: "sub" }, el("legend", { text: t("Scales") }));
      var row = el("div", { class: "row" });
      inst.scales.forEach(function (s, i) {
        var box = el("input", { type: "checkbox", "data-key": k + ":scale:" + i });
        box.checked = chosen.indexOf(s) >= 0;
        box.addEventListener("change", function () {
          var now = inst.scales.filter(function (name, j) { return fs.querySelectorAll("input")[j].checked; });
          delete b.variant;
          if (now.join() === inst.default_scales.join()) delete b.scales; else b.scales = now;
          changed();
        });
        row.append(el("label", { class: "check" }, box, " ", t(s)));
      });
      fs.append(row);
      card.append(fs);
    }
    if (inst.items.length > 1) {
      var picked = libItems(b, inst).map(function (i) { return i.code; });
      var summary = el("summary", { text: t("Items (%(n)s of %(total)s)", { n: picked.length, total: inst.items.length }) });
      var det = el("details", { class: "items" }, summary);
      var list = el("ul", { class: "plain items-list" });
      inst.items.forEach(function (item, i) {
        var box = el("input", { type: "checkbox", "data-key": k + ":item:" + i });
        box.checked = picked.indexOf(item.code) >= 0;
        box.addEventListener("change", function () {
          var now = inst.items.filter(function (it, j) { return list.querySelectorAll("input")[j].checked; }).map(function (it) { return it.code; });
          if (now.length === inst.items.length) delete b.items; else b.items = now;
          summary.textContent = t("Items (%(n)s of %(total)s)", { n: now.length, total: inst.items.length });
          changed();
        });
        list.append(el("li", {}, el("label", { class: "check" }, box, " ",
          el("code", { text: item.code }), " " + item.text + (item.dimension ? " (" + item.dimension + ")" : ""))));
      });
      det.append(list);
      card.append(det);
    }
    card.append(el("div", { class: "row" },
      checkbox(b, "required", t("Required"), k + ":first"),
      inst.items.length > 1 ? checkbox(b, "randomize_rows", t("Random row order"), k + ":rr") : null));
  }

  // --- skip logic: show_if is one condition, {all: [...]} or {any: [...]} -----------------------
  function skipLogic(q, pi, k) {
    var fs = el("fieldset", { class: "sub skiplogic" }, el("legend", { text: t("Skip logic") }));
    var s = q.show_if, mode = "always", conds = [];
    if (isObj(s) && Array.isArray(s.any)) { mode = "any"; conds = s.any; }
    else if (isObj(s) && Array.isArray(s.all)) { mode = "all"; conds = s.all; }
    else if (isObj(s)) { mode = "all"; conds = [s]; }
    var earlier = [];
    arr(model.pages).slice(0, pi).forEach(function (p) {
      arr(isObj(p) ? p.questions : null).forEach(function (e) { earlier = earlier.concat(answerCodes(e)); });
    });
    function write(newMode, list) {
      if (newMode === "always" || list.length === 0) delete q.show_if;
      else if (newMode === "any") q.show_if = { any: list };
      else q.show_if = list.length === 1 ? list[0] : { all: list };
    }
    var modeSel = el("select", { "data-key": k + ":skip" },
      el("option", { value: "always", text: t("always") }),
      el("option", { value: "all", text: t("only if all of these hold") }),
      el("option", { value: "any", text: t("only if any of these holds") }));
    modeSel.value = mode;
    modeSel.addEventListener("change", function () {
      var m = modeSel.value;
      restructure(function () {
        var list = conds.slice();
        if (m !== "always" && list.length === 0) list.push({ question: earlier.length ? earlier[0].code : "", op: "eq" });
        write(m, list);
        return k + ":skip";
      });
    });
    fs.append(field(t("Show this question"), modeSel, pi === 0 ? t("Skip logic can refer only to questions on earlier pages.") : null));
    if (mode === "always") return fs;
    var ol = el("ol", { class: "entries" });
    conds.forEach(function (c, i) {
      var ck = k + ":c" + i, name = t("Condition %(n)s", { n: i + 1 });
      var li = el("li", { class: "entry" });
      var grp = el("div", { class: "row", role: "group", "aria-label": name });
      if (!isObj(c)) { li.append(grp); ol.append(li); return; }
      var qSel = el("select", { "data-key": ck + ":q" });
      qSel.append(el("option", { value: "", text: t("Choose a question") }));
      earlier.forEach(function (e) { qSel.append(el("option", { value: e.code, text: e.code + (e.label ? " — " + e.label : "") })); });
      var cur = typeof c.question === "string" ? c.question : "";
      if (cur && !earlier.some(function (e) { return e.code === cur; })) {
        qSel.append(el("option", { value: cur, text: cur + " " + t("(not on an earlier page)") }));
      }
      qSel.value = cur;
      qSel.addEventListener("change", function () {
        restructure(function () { c.question = qSel.value; return ck + ":q"; });
      });
      var opSel = el("select", { "data-key": ck + ":op" });
      OPS.forEach(function (o) { opSel.append(el("option", { value: o[0], text: o[1] })); });
      opSel.value = typeof c.op === "string" ? c.op : "eq";
      opSel.addEventListener("change", function () {
        restructure(function () {
          var op = opSel.value;
          c.op = op;
          if (op === "answered" || op === "not_answered") delete c.value;
          else if (op === "in" || op === "not_in") {
            if (!Array.isArray(c.value)) c.value = c.value === undefined || c.value === null ? [] : [c.value];
          } else if (Array.isArray(c.value)) {
            if (c.value.length) c.value = c.value[0]; else delete c.value;
          }
          return ck + ":op";
        });
      });
      grp.append(field(t("Question"), qSel), field(t("Condition"), opSel));
      if (c.op !== "answered" && c.op !== "not_answered") {
        var many = c.op === "in" || c.op === "not_in";
        var val = el("input", { type: "text", "data-key": ck + ":v", class: "value-input" });
        val.value = Array.isArray(c.value) ? c.value.join(", ") : c.value === undefined || c.value === null ? "" : String(c.value);
        val.addEventListener("input", function () {
          var raw = val.value.trim();
          if (raw === "") delete c.value;
          else if (many) c.value = raw.split(",").map(function (x) { return x.trim(); }).filter(Boolean).map(parseValue);
          else c.value = parseValue(raw);
          changed();
        });
        var ref = earlier.filter(function (e) { return e.code === cur; })[0];
        var hint = ref && ref.hint ? t("Answers: %(values)s", { values: ref.hint }) : null;
        grp.append(field(many ? t("Values, separated by commas") : t("Answer value"), val, hint));
      }
      li.append(grp, el("div", { class: "tools-row" }, button(t("Remove"), ck + ":del", function () {
        restructure(function () {
          var list = conds.slice();
          list.splice(i, 1);
          write(mode, list);
          return list.length ? k + ":c" + Math.min(i, list.length - 1) + ":q" : k + ":skip";
        });
      }, { "aria-label": t("Remove") + " — " + name, class: "danger" })));
      ol.append(li);
    });
    fs.append(ol);
    fs.append(button(t("Add condition"), k + ":addc", function () {
      restructure(function () {
        var list = conds.slice();
        list.push({ question: earlier.length ? earlier[0].code : "", op: "eq" });
        write(mode, list);
        return k + ":c" + (list.length - 1) + ":q";
      });
    }));
    return fs;
  }
  function parseValue(s) { return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : s; }

  // --- pages and the survey ---------------------------------------------------------------------
  function pageSection(page, pi) {
    var pages = model.pages, k = "p:" + pi, hid = nid();
    var sec = el("section", { class: "card page", "data-path": String(pi), "aria-labelledby": hid },
      el("h2", { id: hid, text: t("Page %(n)s", { n: pi + 1 }) }));
    if (!isObj(page)) return sec;
    sec.append(textInputs(page, "title", t("Page title"), { key: k + ":title" }));
    sec.append(checkbox(page, "randomize", t("Show this page's questions in random order"), k + ":random"));
    var qs = arr(page.questions);
    if (!qs.length) sec.append(el("p", { class: "empty", text: t("This page has no questions yet. Add one below.") }));
    qs.forEach(function (q, qi) { sec.append(questionCard(page, pi, qi)); });

    var addSel = el("select", { "data-key": k + ":add" });
    var g1 = el("optgroup", { label: t("From the instrument library") });
    boot.library.forEach(function (i) { g1.append(el("option", { value: "use:" + i.code, text: i.title })); });
    var g2 = el("optgroup", { label: t("Custom question") });
    TYPES.forEach(function (ty) { g2.append(el("option", { value: "type:" + ty, text: TYPE_LABELS[ty] })); });
    addSel.append(g1, g2);
    addSel.value = "type:single";
    sec.append(el("div", { class: "row add-question" }, field(t("Add a question"), addSel),
      button(t("Add"), k + ":addq", function () {
        restructure(function () {
          if (!Array.isArray(page.questions)) page.questions = [];
          page.questions.push(newEntry(addSel.value));
          return "q:" + pi + "." + (page.questions.length - 1) + ":first";
        }, t("Question added."));
      })));
    sec.append(el("div", { class: "tools-row page-tools" },
      button(t("Move page up"), k + ":up", function () { movePage(pi, -1); }, { disabled: pi === 0, "aria-describedby": hid }),
      button(t("Move page down"), k + ":down", function () { movePage(pi, 1); }, { disabled: pi === pages.length - 1, "aria-describedby": hid }),
      button(t("Duplicate page"), k + ":dup", function () {
        restructure(function () {
          var used = allCodes(), copy = clone(page);
          copy.questions = arr(page.questions).map(function (q) { return duplicateEntry(q, used); });
          pages.splice(pi + 1, 0, copy);
          return "p:" + (pi + 1) + ":title:en";
        }, t("Page duplicated."));
      }, { "aria-describedby": hid }),
      button(t("Delete page"), k + ":del", function () {
        restructure(function () {
          pages.splice(pi, 1);
          return pages.length ? "p:" + Math.min(pi, pages.length - 1) + ":title:en" : "addpage";
        }, t("Page deleted."));
      }, { "aria-describedby": hid, class: "danger" })));
    return sec;
  }
  function movePage(pi, delta) {
    restructure(function () {
      var pages = model.pages, np = pi + delta;
      pages.splice(np, 0, pages.splice(pi, 1)[0]);
      var edge = delta < 0 ? np === 0 : np === pages.length - 1;
      return "p:" + np + ":" + ((delta < 0) !== edge ? "up" : "down");
    }, t("Page moved to position %(n)s.", { n: pi + delta + 1 }));
  }

  function surveySection() {
    var hid = nid();
    var sec = el("section", { class: "card", "aria-labelledby": hid }, el("h2", { id: hid, text: t("Survey") }));
    sec.append(el("div", { class: "row" }, codeInput(model, "code", t("Code"), {
      key: "s:code", readonly: !!boot.code,
      hint: boot.code ? t("A saved survey keeps its code; create a new survey for a new code.")
        : t("Letters a–z, digits and _, starting with a letter; at most 40 characters.")
    })));
    sec.append(textInputs(model, "title", t("Title"), { required: true, key: "s:title" }));
    sec.append(textInputs(model, "intro", t("Introduction"), { multiline: true }));
    sec.append(textInputs(model, "thanks", t("Thank-you message"), { multiline: true }));
    var fs = el("fieldset", { class: "sub" }, el("legend", { text: t("Languages") }));
    var current = Array.isArray(model.locales) ? model.locales : LOCALES;
    var row = el("div", { class: "row" });
    LOCALES.forEach(function (loc, i) {
      var box = el("input", { type: "checkbox", "data-key": "s:loc:" + i, lang: loc === "zh_CN" ? "zh-CN" : "en" });
      box.checked = current.indexOf(loc) >= 0;
      box.addEventListener("change", function () {
        var others = arr(model.locales).filter(function (l) { return LOCALES.indexOf(l) < 0; });
        model.locales = LOCALES.filter(function (l, j) { return row.querySelectorAll("input")[j].checked; }).concat(others);
        changed();
      });
      row.append(el("label", { class: "check" }, box, " ", t(loc)));
    });
    fs.append(row, el("p", { class: "meta", text: t("Every wording must be given in each language the survey is in.") }));
    sec.append(fs);
    return sec;
  }

  function render(focusKey) {
    formView.textContent = "";
    if (!isObj(model)) return;
    formView.append(surveySection());
    arr(model.pages).forEach(function (p, pi) { formView.append(pageSection(p, pi)); });
    formView.append(button(t("Add page"), "addpage", function () {
      restructure(function () {
        if (!Array.isArray(model.pages)) model.pages = [];
        model.pages.push({ questions: [] });
        return "p:" + (model.pages.length - 1) + ":add";
      }, t("Page added."));
    }));
    markProblems();
    if (focusKey) {
      var target = formView.querySelector('[data-key="' + focusKey + '"]');
      if (target && target.disabled && target.closest(".tools-row")) {
        target = target.closest(".tools-row").querySelector("button:not([disabled])");
      }
      if (target) target.focus();
    }
  }

  // --- pointing at the question a check or save error names ------------------------------------
  function cardFor(loc) {
    if (!loc) return null;
    var m = /^pages\.(\d+)(?:\.questions\.(\d+))?/.exec(loc);
    if (m && m[2] !== undefined) return formView.querySelector('fieldset.question[data-path="' + m[1] + "." + m[2] + '"]');
    if (m) return formView.querySelector('section.page[data-path="' + m[1] + '"]');
    return formView.querySelector("section.card");
  }
  var problemLoc = null;
  function markProblems() {
    formView.querySelectorAll(".invalid").forEach(function (n) { n.classList.remove("invalid"); });
    var card = cardFor(problemLoc);
    if (card) card.classList.add("invalid");
  }
  function offerJump(holder) {
    if (!holder || formView.hidden) return;
    problemLoc = holder.getAttribute("data-loc");
    markProblems();
    var card = cardFor(problemLoc);
    if (!card || holder.querySelector(".jump")) return;
    holder.append(" ", button(t("Show in the form"), "jump", function () {
      var c = cardFor(problemLoc);
      if (!c) return;
      c.scrollIntoView({ block: "start" });
      var first = c.querySelector("input:not([readonly]), select, textarea, button");
      if (first) first.focus();
    }, { class: "jump" }));
  }
  document.body.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.target.id !== "check") return;
    var err = ev.target.querySelector("[data-loc]");
    problemLoc = err ? err.getAttribute("data-loc") : null;
    markProblems();
    if (err) offerJump(err);
  });

  // --- the two views ----------------------------------------------------------------------------
  function setView(form) {
    formView.hidden = !form;
    yamlView.hidden = form;
    palette.hidden = form;
    layout.classList.toggle("form-mode", form);
    showForm.setAttribute("aria-pressed", String(form));
    showYaml.setAttribute("aria-pressed", String(!form));
    undoButton.hidden = !form;
  }
  function toForm() {
    problem.hidden = true;
    if (area.value === synced && isObj(model)) { setView(true); return; }
    showForm.disabled = true;
    announce(t("Reading the definition…"));
    var body = new URLSearchParams({ definition: area.value });
    var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    fetch("/surveys/form-data", {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
    }).then(function (r) {
      // not JSON: the session ended or the page's form token expired
      return r.json().then(function (j) { return { ok: r.ok, j: j }; }, function () {
        return { ok: false, j: { error: t("Reload the page and try again.") } };
      });
    }).then(function (res) {
      showForm.disabled = false;
      announce("");
      if (res.ok && isObj(res.j.definition)) {
        if (isObj(model)) snapshot();
        model = res.j.definition;
        synced = area.value;  // the YAML as typed stays until the form changes something
        render();
        setView(true);
      } else {
        showProblem(res.j.error || t("The server did not answer; try again."));
      }
    }, function () {
      showForm.disabled = false;
      showProblem(t("The server did not answer; try again."));
    });
  }
  function showProblem(message) {
    problem.textContent = t("The form cannot show this definition: %(problem)s", { problem: message });
    problem.hidden = false;
  }

  var status = el("p", { class: "meta builder-status", role: "status", "aria-live": "polite" });
  var undoButton = button(t("Undo"), "undo", function () {
    if (!history.length) return;
    model = JSON.parse(history.pop());
    undoButton.disabled = history.length === 0;
    changed();
    render();
    undoButton.focus();
    announce(t("Undone."));
  }, { disabled: true });
  savebar.prepend(undoButton);
  savebar.append(status);

  // Enter in a field of the form view must not submit (save) the whole survey.
  formView.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.tagName === "INPUT") ev.preventDefault();
  });
  // Leaving the page with changes not saved asks first (the browser's own question).
  area.addEventListener("input", function () { unsaved = true; });
  document.getElementById("builder").addEventListener("submit", function () { unsaved = false; });
  window.addEventListener("beforeunload", function (ev) {
    if (!unsaved) return;
    ev.preventDefault();
    ev.returnValue = "";
  });
  showForm.addEventListener("click", toForm);
  showYaml.addEventListener("click", function () { problem.hidden = true; setView(false); });
  switcher.hidden = false;
  if (isObj(model)) {
    render();
    setView(true);
    offerJump(document.getElementById("save-error"));
  } else {
    setView(false);
    if (boot.problem) showProblem(boot.problem);
  }
})();
