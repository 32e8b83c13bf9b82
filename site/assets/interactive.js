// Graded questions on a card page (data written by quiz/site/graded.py), the errata filter, and exporting
// progress. Everything stays in this browser (localStorage); nothing is sent anywhere.
var QuizSite = (function () {
  "use strict";
  var KEY = "transformer-proofs:graded:v1";

  // ---- Reading a typed quantity: the rules of quiz/numeric.py's parse_quantity, kept in step by
  // tests/test_site_browser.py, which runs both over the same strings.
  var UNIT_WORDS = {
    bytes: ["b", "byte", "bytes"],
    FLOPs: ["flop", "flops"],
    parameters: ["param", "params", "parameter", "parameters", "weights"],
    count: [],
    ratio: ["x", "×", "times"],
    nats: ["nat", "nats"],
    radians: ["rad", "rads", "radian", "radians"],
    tokens: ["tok", "toks", "token", "tokens"],
  };
  var ALL_WORDS = {};
  Object.keys(UNIT_WORDS).forEach(function (unit) {
    UNIT_WORDS[unit].forEach(function (w) { ALL_WORDS[w] = unit; });
  });
  var BINARY = { ki: Math.pow(2, 10), mi: Math.pow(2, 20), gi: Math.pow(2, 30), ti: Math.pow(2, 40), pi: Math.pow(2, 50) };
  var DECIMAL = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15, e: 1e18 };
  var COUNT = {
    k: 1e3, thousand: 1e3, m: 1e6, mn: 1e6, million: 1e6, b: 1e9, bn: 1e9, g: 1e9, billion: 1e9,
    t: 1e12, trillion: 1e12, p: 1e15, quadrillion: 1e15,
  };
  var NUMBER = new RegExp(
    "^\\s*([-+−]?)\\s*((?:\\d[\\d,_]*(?:\\.\\d*)?|\\.\\d+))" +
      "(?:\\s*(?:e|E)\\s*([-+−]?\\d+)|\\s*(?:[x×*·]\\s*10\\s*(?:\\^|\\*\\*)\\s*([-+−]?\\d+)))?" +
      "(?:\\s*\\^\\s*(\\d+))?\\s*([\\s\\S]*?)\\s*$"
  );

  function FormatError(message) { this.message = message; }

  function own(table, key) { return Object.prototype.hasOwnProperty.call(table, key); }

  function parseQuantity(text, unit) {
    var raw = text.trim();
    if (!raw) throw new FormatError("type a number, like 2 GiB, 175B or 3.1e23");
    var m = NUMBER.exec(raw);
    if (!m) throw new FormatError("cannot read '" + raw + "' as a number; try forms like 2 GiB, 175B, 3.1e23 or 1,024");
    var value = parseFloat(m[2].replace(/[,_]/g, ""));
    var exponent = m[3] || m[4];
    if (exponent) value *= Math.pow(10, parseInt(exponent.replace("−", "-"), 10));
    if (m[5]) value = Math.pow(value, parseInt(m[5], 10));
    if (m[1] === "-" || m[1] === "−") value = -value;
    return value * scale(m[6], unit, raw);
  }

  function scale(rest, unit, raw) {
    var words = rest.replace(/-/g, " ").split(/\s+/).filter(Boolean);
    if (!words.length) return 1;
    if (rest === "%" || (words.length === 1 && words[0] === "%")) {
      if (unit !== "ratio") throw new FormatError("'%' only makes sense for a ratio; this answer is in " + unit);
      return 0.01;
    }
    var last = words[words.length - 1].toLowerCase();
    if (own(ALL_WORDS, last) && !(last === "b" && unit !== "bytes")) {
      var named = ALL_WORDS[last];
      if (named !== unit && !(unit === "count" && (named === "parameters" || named === "tokens"))) {
        throw new FormatError("'" + words[words.length - 1] + "' is a unit of " + named + ", but this answer is in " + unit);
      }
      words = words.slice(0, -1);
      if (!words.length) return 1;
    }
    if (words.length !== 1) {
      throw new FormatError("cannot read '" + raw + "'; put one multiplier after the number, like 2 GiB or 175B");
    }
    var word = words[0], lower = word.toLowerCase();
    if (unit === "bytes") {
      if (/ib$/.test(lower) && own(BINARY, lower.slice(0, -1))) return BINARY[lower.slice(0, -1)];
      if (own(BINARY, lower)) return BINARY[lower];
      if (/b$/.test(lower) && own(DECIMAL, lower.slice(0, -1))) return DECIMAL[lower.slice(0, -1)];
      if (own(DECIMAL, lower)) return DECIMAL[lower];
      throw new FormatError("unknown size '" + word + "'; use B, kB/MB/GB/TB (×1000) or KiB/MiB/GiB/TiB (×1024)");
    }
    if (unit === "FLOPs" && /(flop|flops)$/.test(lower)) {
      var prefix = lower.slice(0, lower.indexOf("flop"));
      if (own(DECIMAL, prefix)) return DECIMAL[prefix];
    }
    if (own(COUNT, lower)) return COUNT[lower];
    if (/ib$/.test(lower) && own(BINARY, lower.slice(0, -1))) {
      throw new FormatError("'" + word + "' is a size in bytes, but this answer is in " + unit);
    }
    throw new FormatError("unknown multiplier '" + word + "'; use K, M, B (billion) or T, or write 3.1e23");
  }

  function closeEnough(given, expected, tolerance) {
    if (!isFinite(given)) return false;
    if (expected === 0) return Math.abs(given) <= tolerance;
    return Math.abs(given - expected) <= tolerance * Math.abs(expected);
  }

  // ---- Progress

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch (e) { return {}; }
  }
  function save(progress) {
    try { localStorage.setItem(KEY, JSON.stringify(progress)); } catch (e) { /* private mode: grading still works */ }
  }
  function note(cardId, kind, right) {
    var progress = load();
    var card = progress[cardId] || (progress[cardId] = {});
    var entry = card[kind] || (card[kind] = { tried: 0, right: 0 });
    entry.tried += 1;
    if (right) entry.right += 1;
    entry.last = Date.now();
    save(progress);
    return entry;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function shuffle(items) {
    var a = items.slice();
    for (var i = a.length - 1; i > 0; i--) {
      var j = Math.floor(Math.random() * (i + 1));
      var t = a[i]; a[i] = a[j]; a[j] = t;
    }
    return a;
  }

  function score(entry) {
    return entry ? "Your record here: " + entry.right + " right of " + entry.tried : "";
  }

  function multipleChoice(root, data) {
    var box = el("div", "graded graded-mc");
    box.append(el("p", null, "Pick the best answer to the question above."));
    var list = el("ol", "graded-choices");
    var status = el("p", "graded-score");
    status.setAttribute("aria-live", "polite");
    var done = false;
    shuffle(data.choices).forEach(function (choice) {
      var item = el("li");
      var button = el("button");
      button.type = "button";
      button.innerHTML = choice.html; // generated from the card's Markdown at build time
      button.dataset.correct = choice.correct ? "1" : "0";
      var why = el("div", "graded-why");
      why.hidden = true;
      why.innerHTML = (choice.correct ? "Right. " : "Not this one. ") + choice.why;
      button.addEventListener("click", function () {
        button.classList.add(choice.correct ? "right" : "wrong");
        why.hidden = false;
        if (!done) {
          var entry = note(data.card, "choice", choice.correct);
          status.textContent = (choice.correct ? "Right first time. " : "Not the first pick. ") + score(entry);
        }
        done = true;
      });
      item.append(button, why);
      list.append(item);
    });
    box.append(list, status);
    root.append(box);
  }

  function numericQuestion(root, data, question) {
    var instance = question.instances[Math.floor(Math.random() * question.instances.length)];
    var box = el("div", "graded graded-numeric");
    var prompt = el("p", "graded-prompt");
    prompt.innerHTML = instance.prompt;
    var form = el("form");
    var input = el("input");
    input.type = "text";
    input.setAttribute("aria-label", "Your answer, in " + question.unit);
    input.placeholder = "answer in " + question.unit + " (e.g. 2 GiB, 175B, 3.1e23)";
    input.autocomplete = "off";
    var check = el("button", "md-button", "Check");
    check.type = "submit";
    var another = el("button", "md-button graded-another", "Another");
    another.type = "button";
    another.hidden = question.instances.length < 2;
    var verdict = el("p", "graded-verdict");
    verdict.setAttribute("aria-live", "polite");
    form.append(input, check, another);
    box.append(prompt, form, verdict);
    var graded = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var given;
      try {
        given = parseQuantity(input.value, question.unit);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        verdict.className = "graded-verdict";
        verdict.textContent = e.message; // not marked wrong: the reader is asked again
        return;
      }
      var right = closeEnough(given, instance.expected, question.tolerance);
      verdict.className = "graded-verdict " + (right ? "right" : "wrong");
      var text = (right ? "Right: " : "Not quite: the answer is ") + instance.shown +
        " (within " + question.tolerance * 100 + " %).";
      if (!graded) text += " " + score(note(data.card, "numeric", right));
      graded = true;
      verdict.textContent = text;
    });
    another.addEventListener("click", function () {
      box.remove();
      numericQuestion(root, data, question);
      if (typeof renderQuizMath === "function") renderQuizMath(root);
    });
    root.append(box);
  }

  function graded(root) {
    var data = JSON.parse(root.dataset.graded);
    if (data.choices) multipleChoice(root, data);
    (data.numeric || []).forEach(function (q) { numericQuestion(root, data, q); });
    if (typeof renderQuizMath === "function") renderQuizMath(root);
  }

  // ---- Errata: filter the table and the sections by topic and verdict

  function errataFilter(root) {
    var table = document.querySelector(".errata-table table");
    if (!table) return;
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var sections = Array.prototype.slice.call(document.querySelectorAll(".erratum"));
    var topics = {};
    rows.forEach(function (row) { topics[row.cells[1].textContent.trim()] = 1; });
    var topic = el("select"), verdict = el("select");
    topic.setAttribute("aria-label", "Topic");
    verdict.setAttribute("aria-label", "Verdict");
    [["", "All topics"]].concat(Object.keys(topics).sort().map(function (t) { return [t, t]; })).forEach(function (o) {
      var option = el("option", null, o[1]); option.value = o[0]; topic.append(option);
    });
    [["", "False and imprecise"], ["false", "False"], ["imprecise", "Imprecise"]].forEach(function (o) {
      var option = el("option", null, o[1]); option.value = o[0]; verdict.append(option);
    });
    var count = el("span", "errata-count");
    count.setAttribute("aria-live", "polite");
    var topicLabel = el("label", null, "Topic "), verdictLabel = el("label", null, "Verdict ");
    topicLabel.append(topic);
    verdictLabel.append(verdict);
    root.append(topicLabel, verdictLabel, count);
    function apply() {
      var shown = 0;
      function keep(t, v) { return (!topic.value || t === topic.value) && (!verdict.value || v === verdict.value); }
      rows.forEach(function (row) {
        var ok = keep(row.cells[1].textContent.trim(), row.cells[2].textContent.trim());
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      sections.forEach(function (s) { s.hidden = !keep(s.dataset.topic, s.dataset.verdict); });
      count.textContent = shown + " of " + rows.length + " shown";
    }
    topic.addEventListener("change", apply);
    verdict.addEventListener("change", apply);
    apply();
  }

  // ---- Export: every key this site keeps, as one JSON file

  function exportProgress() {
    var data = {};
    for (var i = 0; i < localStorage.length; i++) {
      var key = localStorage.key(i);
      if (key.indexOf("transformer-proofs:") === 0) data[key] = JSON.parse(localStorage.getItem(key));
    }
    var blob = new Blob([JSON.stringify(data, null, 1)], { type: "application/json" });
    var link = el("a");
    link.href = URL.createObjectURL(blob);
    link.download = "transformer-proofs-progress.json";
    document.body.append(link);
    link.click();
    link.remove();
  }

  document$.subscribe(function () {
    document.querySelectorAll(".graded-root").forEach(function (root) {
      if (root.dataset.ready) return;
      root.dataset.ready = "1";
      graded(root);
    });
    var filter = document.getElementById("errata-filter");
    if (filter && !filter.dataset.ready) {
      filter.dataset.ready = "1";
      errataFilter(filter);
    }
  });

  return { parseQuantity: parseQuantity, FormatError: FormatError, closeEnough: closeEnough, exportProgress: exportProgress };
})();
