// Graded questions on a card page (data written by quiz/site/graded.py), the errata filter, and exporting
// progress. Everything stays in this browser (localStorage); nothing is sent anywhere.
var QuizSite = (function () {
  "use strict";
  var KEY = "transformer-proofs:graded:v1";

  // ---- Reading a typed quantity: a port of quiz/numeric.py's read_quantity (same grammar, same messages), kept in
  // step by tests/test_site_browser.py, which runs both over the same strings. A scanner, not a regular expression,
  // so any input gets a value or one line in time linear in its length.
  var MAX_ANSWER = 200;
  var LARGEST = 1e300;
  var UNIT_WORDS = {
    bytes: ["b", "byte", "bytes"],
    FLOPs: ["flop", "flops"],
    parameters: ["param", "params", "parameter", "parameters", "weights"],
    count: [],
    ratio: ["x", "×", "times", "flops/byte", "flop/byte", "flops/b", "flop/b", "flops per byte"],
    nats: ["nat", "nats"],
    radians: ["rad", "rads", "radian", "radians"],
    tokens: ["tok", "toks", "token", "tokens"],
  };
  var EXAMPLES = {
    bytes: "2 GiB, 64 KiB, 1.5e9 B or 2 gigabytes",
    FLOPs: "3.1e23, 310 ZFLOPs, 6 × 10^21 or 2^40",
    parameters: "175B, 7 billion, 1.3e9 or 124M",
    count: "96, 1,024, 2^10 or 16K",
    ratio: "2.3, 16/7, 4x or 25%",
    nats: "2.83 or ~3.1",
    radians: "0.52, 1e-3 or 2^-10",
    tokens: "8192, 8Ki, 1.4T or 300B",
  };
  var ALL_WORDS = {};
  Object.keys(UNIT_WORDS).forEach(function (unit) {
    UNIT_WORDS[unit].forEach(function (w) { ALL_WORDS[w] = unit; });
  });
  var BINARY = { ki: 1024, mi: Math.pow(2, 20), gi: Math.pow(2, 30), ti: Math.pow(2, 40), pi: Math.pow(2, 50), ei: Math.pow(2, 60) };
  var DECIMAL = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15, e: 1e18, z: 1e21, y: 1e24 };
  var BYTE_WORDS = {
    kilobyte: 1e3, megabyte: 1e6, gigabyte: 1e9, terabyte: 1e12, petabyte: 1e15,
    kibibyte: 1024, mebibyte: Math.pow(2, 20), gibibyte: Math.pow(2, 30), tebibyte: Math.pow(2, 40),
    pebibyte: Math.pow(2, 50),
  };
  var BIT_WORDS = { bit: 1, kilobit: 1e3, megabit: 1e6, gigabit: 1e9, terabit: 1e12 };
  var FLOP_WORDS = { kilo: 1e3, mega: 1e6, giga: 1e9, tera: 1e12, peta: 1e15, exa: 1e18, zetta: 1e21 };
  // For counts (parameters, tokens, FLOPs) "B" is a billion, as in "175B params"; for bytes it is the byte.
  var COUNT = {
    k: 1e3, thousand: 1e3, m: 1e6, mn: 1e6, million: 1e6, b: 1e9, bn: 1e9, g: 1e9, billion: 1e9,
    t: 1e12, trillion: 1e12, p: 1e15, quadrillion: 1e15, ki: 1024, mi: Math.pow(2, 20), gi: Math.pow(2, 30),
  };
  var APPROX = ["~", "≈", "about ", "approx. ", "approx ", "approximately ", "around ", "roughly ", "ca. ", "circa "];
  var GROUP_SPACES = " \u00a0\u2009\u202f'’_";
  var MINUS = "-−–";
  // What Python's str.split() splits on (JS's \s differs: it has U+FEFF and lacks U+001C–U+001F and U+0085).
  var PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
  // K = 10³ and Ki = 2¹⁰ …: a prefix read in one convention, mapped to the other.
  var OTHER = {};
  for (var n = 1; n <= 6; n++) {
    OTHER[Math.pow(1000, n)] = Math.pow(2, 10 * n);
    OTHER[Math.pow(2, 10 * n)] = Math.pow(1000, n);
  }

  function FormatError(message) { this.message = message; }
  FormatError.prototype.toString = function () { return this.message; };

  function own(table, key) { return Object.prototype.hasOwnProperty.call(table, key); }
  function isDigit(c) { return c.length === 1 && c >= "0" && c <= "9"; }
  function has(chars, c) { return c !== "" && chars.indexOf(c) >= 0; }
  function length(s) { return Array.from(s).length; } // code points, as Python counts
  function pySplit(s) { return s.split(PY_SPACE).filter(Boolean); }
  function pyStrip(s) { return s.replace(new RegExp("^" + PY_SPACE.source), "").replace(new RegExp(PY_SPACE.source + "$"), ""); }
  function isUpper(c) { return /^\p{Uppercase}$/u.test(c); } // Python's str.isupper on one character

  function shown(text) {
    var clean = Array.from(text).map(function (c) { return /[\p{C}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u.test(c) ? "?" : c; });
    return clean.length <= 40 ? clean.join("") : clean.slice(0, 37).join("") + "…";
  }
  function outOfRange(text) { return new FormatError("'" + shown(text) + "' is out of range for an answer here"); }

  function readQuantity(text, unit) {
    var raw = pySplit(text).join(" ");
    if (length(raw) > MAX_ANSWER) {
      throw new FormatError("that is " + length(text).toLocaleString("en-US") + " characters; type just the number, like " + EXAMPLES[unit]);
    }
    if (!raw) throw new FormatError("type a number, like " + EXAMPLES[unit]);
    var notes = [];
    var lower = raw.toLowerCase();
    for (var a = 0; a < APPROX.length; a++) {
      if (lower.indexOf(APPROX[a]) === 0) {
        raw = pyStrip(raw.slice(APPROX[a].length));
        notes.push("read '" + APPROX[a].trim() + "' as 'about'; graded as the number itself");
        break;
      }
    }
    var scanner = new Scanner(raw, unit);
    var value = scanner.expression();
    var rest = pyStrip(raw.slice(scanner.pos));
    notes = notes.concat(scanner.notes);
    if (!isFinite(value) || Math.abs(value) > LARGEST) throw outOfRange(raw);
    var scaled = scale(rest, unit, raw);
    var factor = scaled[0];
    var other = own(OTHER, factor) ? OTHER[factor] : null;
    value *= factor;
    if (!isFinite(value) || Math.abs(value) > LARGEST) throw outOfRange(raw);
    return { value: value, notes: notes.concat(scaled[1]), otherConvention: other ? (value / factor) * other : null };
  }

  function parseQuantity(text, unit) { return readQuantity(text, unit).value; }

  // expression := ['+'|'-'] product; product := power (('×'|'*'|'·'|'x'|'/') power)*;
  // power := atom [('^'|'**') ['-'] atom]; atom := number | '(' expression ')'.
  function Scanner(text, unit) {
    this.text = text; this.pos = 0; this.unit = unit; this.depth = 0; this.notes = [];
  }
  Scanner.prototype.peek = function () {
    while (this.pos < this.text.length && this.text[this.pos] === " ") this.pos += 1;
    return this.pos < this.text.length ? this.text[this.pos] : "";
  };
  Scanner.prototype.fail = function () {
    return new FormatError("cannot read '" + shown(this.text) + "' as a number; try forms like " + EXAMPLES[this.unit]);
  };
  Scanner.prototype.startsWith = function (s, at) { return this.text.slice(at, at + s.length) === s; };
  Scanner.prototype.expression = function () {
    var sign = 1;
    if (has(MINUS, this.peek()) || this.peek() === "+") {
      sign = has(MINUS, this.text[this.pos]) ? -1 : 1;
      this.pos += 1;
    }
    var value = this.power();
    for (;;) {
      var start = this.pos;
      var op = this.peek();
      var operator = has("×*·/÷", op) && !this.startsWith("**", this.pos);
      if (operator || ((op === "x" || op === "X") && this.numberFollows(this.pos + 1))) this.pos += 1;
      else break;
      if (!this.numberFollows(this.pos)) {
        this.pos = start; // "4x", "50 FLOPs/byte": the rest is a unit
        break;
      }
      var right = this.power();
      if (op === "/" || op === "÷") {
        if (right === 0) throw new FormatError("'" + shown(this.text) + "' divides by zero");
        value /= right;
      } else {
        value = product(value, right);
      }
    }
    return sign * value;
  };
  Scanner.prototype.numberFollows = function (at) {
    while (at < this.text.length && this.text[at] === " ") at += 1;
    return at < this.text.length && (isDigit(this.text[at]) || has(".(", this.text[at]));
  };
  Scanner.prototype.power = function () {
    var base = this.atom();
    if (this.peek() === "^" || this.startsWith("**", this.pos)) {
      this.pos += this.text[this.pos] === "^" ? 1 : 2;
      var negative = has(MINUS, this.peek());
      if (negative) this.pos += 1;
      var exponent = this.atom();
      if (negative) exponent = -exponent;
      if (base < 0 && !Number.isInteger(exponent)) throw this.fail();
      if (base !== 0 && Math.abs(exponent * Math.log10(Math.abs(base))) > 300) throw outOfRange(this.text);
      if (base === 0 && exponent < 0) throw this.fail(); // Python: ZeroDivisionError
      if (base === 1) return 1; // Python: 1.0 ** inf is 1.0, JS: NaN
      return Math.pow(base, exponent);
    }
    return base;
  };
  Scanner.prototype.atom = function () {
    if (this.peek() === "(") {
      this.depth += 1;
      if (this.depth > 10) throw this.fail();
      this.pos += 1;
      var value = this.expression();
      if (this.peek() !== ")") throw this.fail();
      this.pos += 1;
      this.depth -= 1;
      return value;
    }
    return this.number();
  };
  // Digits with optional groups (1,024 · 175 000 000 · 1_000) and a decimal point or comma, then e±N.
  Scanner.prototype.number = function () {
    var text = this.text, start = this.pos, n = text.length, i = start;
    while (i < n && (isDigit(text[i]) || has(".,", text[i]) || (has(GROUP_SPACES, text[i]) && groupAt(text, i)))) i += 1;
    var token = i - start > 1 ? text.slice(start, i).replace(/,+$/, "") : text.slice(start, i);
    i = start + token.length;
    if (!token || !/[0-9]/.test(token)) throw this.fail();
    var digits = this.digits(token);
    this.pos = i;
    // scientific notation: 3.1e23, 2E-5 (an 'e' followed by a digit; "2 EB" stays a unit)
    var exponent = 0;
    if (i < n && (text[i] === "e" || text[i] === "E")) {
      var j = i + 1;
      if (j < n && (has(MINUS, text[j]) || text[j] === "+")) j += 1;
      var k = j;
      while (k < n && isDigit(text[k])) k += 1;
      if (k > j) {
        if (k - j > 4) throw outOfRange(this.text);
        exponent = parseInt(text.slice(j, k), 10) * (has(MINUS, text[i + 1]) ? -1 : 1);
        this.pos = k;
      }
    }
    if (exponent > 300 || (exponent < -300 && Number(digits) !== 0)) throw outOfRange(this.text);
    return exponent ? Number(digits) * Math.pow(10, exponent) : Number(digits);
  };
  // A plain decimal string from a token with separators; notes a comma taken as a decimal comma.
  Scanner.prototype.digits = function (token) {
    token = Array.from(token).filter(function (c) { return !has(GROUP_SPACES, c); }).join("");
    if (token.indexOf(",") >= 0) {
      var parts = token.split(","), head = parts[0], groups = parts.slice(1), last = groups[groups.length - 1];
      if (token.indexOf(".") < 0 && groups.length === 1 && last.length !== 3 && head && /^[0-9]*$/.test(last)) {
        this.notes.push("read " + token + " as " + head + "." + last + " (a decimal comma)");
        return head + "." + last;
      }
      var tail = last.split(".")[0];
      var bad = groups.slice(0, -1).concat([tail]).some(function (g) { return g.length !== 3; });
      if (!head || bad || head.length > 3) {
        throw new FormatError(
          "cannot read '" + token + "': put a comma only between groups of three digits (1,024) " +
            "or as the one decimal mark (2,5)"
        );
      }
      token = token.replace(/,/g, "");
    }
    if (token.split(".").length - 1 > 1) throw this.fail();
    return token;
  };

  // A space-like digit separator at i: a digit before, exactly three digits after, then no digit.
  function groupAt(text, i) {
    var after = text.slice(i + 1, i + 4);
    return i > 0 && isDigit(text[i - 1]) && after.length === 3 && /^[0-9]{3}$/.test(after) &&
      (i + 4 >= text.length || !isDigit(text[i + 4]));
  }

  function product(a, b) {
    if (a && b && Math.log10(Math.abs(a)) + Math.log10(Math.abs(b)) > 300) return Infinity;
    return a * b;
  }

  // The factor a suffix such as 'GiB', 'B params', 'TFLOPs', '%' or 'million' stands for, and what was assumed.
  function scale(rest, unit, raw) {
    var words = pySplit(rest.replace(/-/g, " "));
    if (!words.length) return [1, []];
    if (rest === "%") {
      if (unit !== "ratio") throw new FormatError("'%' only makes sense for a ratio; this answer is in " + unit);
      return [0.01, []];
    }
    var joined = words.join(" ").toLowerCase();
    if (own(ALL_WORDS, joined) && ALL_WORDS[joined] === unit) return [1, []];
    // The last word may name the unit ("params", "FLOPs", "tokens"); it must be this question's unit.
    var last = words[words.length - 1].toLowerCase();
    // For counts "B" is a billion ("175B"), so it names the unit only in a question about bytes.
    if (own(ALL_WORDS, last) && !(last === "b" && unit !== "bytes")) {
      var named = ALL_WORDS[last];
      if (named !== unit && !(unit === "count" && (named === "parameters" || named === "tokens"))) {
        throw new FormatError("'" + shown(words[words.length - 1]) + "' is a unit of " + named + ", but this answer is in " + unit);
      }
      words = words.slice(0, -1);
      if (!words.length) return [1, []];
    }
    if (words.length !== 1) {
      throw new FormatError("cannot read '" + shown(raw) + "'; put one multiplier after the number, like " + EXAMPLES[unit]);
    }
    var word = words[0], lower = word.toLowerCase();
    if (unit === "bytes") return bytesFactor(word, lower);
    if (unit === "FLOPs" && lower.indexOf("flop") >= 0 && /(flop|flops)$/.test(lower)) {
      var prefix = lower.slice(0, lower.indexOf("flop"));
      if (own(DECIMAL, prefix)) return [DECIMAL[prefix], []];
      if (own(FLOP_WORDS, prefix)) return [FLOP_WORDS[prefix], []];
    }
    if (own(COUNT, lower)) return [COUNT[lower], []];
    if (/ib$/.test(lower) && own(BINARY, lower.slice(0, -1))) {
      throw new FormatError("'" + shown(word) + "' is a size in bytes, but this answer is in " + unit);
    }
    throw new FormatError(
      "unknown multiplier '" + shown(word) + "'; use K, M, B (billion), T or Ki (×1024), or forms like " + EXAMPLES[unit]
    );
  }

  function bytesFactor(word, lower) {
    var chars = Array.from(word);
    var singular = /s$/.test(lower) ? lower.slice(0, -1) : lower;
    if (own(BYTE_WORDS, singular)) return [BYTE_WORDS[singular], []];
    if (own(BIT_WORDS, singular) || (
      chars.length >= 2 && /b$/.test(word) && chars[chars.length - 2] !== "i" &&
        own(DECIMAL, word.slice(0, -1).toLowerCase()) && isUpper(chars[0])
    )) {
      var size = own(BIT_WORDS, singular) ? BIT_WORDS[singular] : DECIMAL[word.slice(0, -1).toLowerCase()];
      return [size / 8, ["read '" + shown(word) + "' as bits (÷ 8); write B for bytes"]];
    }
    if (chars.length === 3 && /ib$/.test(word) && isUpper(chars[0])) { // "Gib" is gibibits
      return [own(BINARY, lower.slice(0, 2)) ? BINARY[lower.slice(0, 2)] / 8 : 0, ["read '" + word + "' as bits (÷ 8); write B"]];
    }
    if (/ib$/.test(lower) && own(BINARY, lower.slice(0, -1))) return [BINARY[lower.slice(0, -1)], []];
    if (own(BINARY, lower)) return [BINARY[lower], []];
    if (/b$/.test(lower) && own(DECIMAL, lower.slice(0, -1))) return [DECIMAL[lower.slice(0, -1)], []];
    if (own(DECIMAL, lower)) return [DECIMAL[lower], []];
    throw new FormatError("unknown size '" + shown(word) + "'; use B, kB/MB/GB/TB (×1000) or KiB/MiB/GiB/TiB (×1024)");
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

  // ---- A generated question drawn here: quiz/numeric/drawing.py's draw, with the formula exported from Python
  // (assets/formulas.js) computing the expected value. `pick(n)` chooses an index below n (Math.random by default;
  // a test passes a seeded one).
  function decode(value) { return typeof value === "string" ? BigInt(value) : value; }
  function drawParams(question, pick) {
    var params = {};
    Object.keys(question.params).forEach(function (name) {
      var values = question.params[name];
      params[name] = decode(values.length === 1 ? values[0] : values[pick(values.length)]);
    });
    return params;
  }
  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }
  // One configuration: {params, prompt (the text, as Python's str.format fills it), html, expected, shown}.
  function instanceFor(question, params) {
    var shownParams = {};
    Object.keys(params).forEach(function (name) { shownParams[name] = PyRT.formatParam(params[name]); });
    var prompt = question.parts.map(function (part, i) { return i % 2 ? shownParams[part] : part; }).join("");
    var names = question.parts.filter(function (part, i) { return i % 2 === 1; });
    var html = question.html.replace(/zqzslot(\d+)zqz/g, function (all, i) { return escapeHtml(shownParams[names[Number(i)]]); });
    var expected = PyRT.result(PyFormulas.call(question.formula, params));
    return { params: params, prompt: prompt, html: html, expected: expected, shown: PyRT.formatQuantity(expected, question.unit) };
  }
  function freshInstance(question) {
    var pick = function (n) { return Math.floor(Math.random() * n); };
    var error;
    for (var attempt = 0; attempt < 20; attempt++) { // `quiz check` computes every combination (NUM007): no retry is expected
      try { return instanceFor(question, drawParams(question, pick)); } catch (e) { error = e; }
    }
    throw error;
  }

  function numericQuestion(root, data, question, before) {
    var instance;
    var box = el("div", "graded graded-numeric");
    var prompt = el("p", "graded-prompt");
    if (question.formula) {
      try {
        instance = freshInstance(question);
      } catch (e) {
        box.append(el("p", "graded-verdict", "This question could not be drawn here (" + e + ")."));
        root.insertBefore(box, before || null);
        return;
      }
      box.dataset.params = JSON.stringify(instance.params, function (k, v) { return typeof v === "bigint" ? v.toString() : v; });
      prompt.innerHTML = instance.html; // the card's Markdown rendered at build time, with the drawn values escaped
    } else {
      instance = question.instances[Math.floor(Math.random() * question.instances.length)];
      prompt.innerHTML = instance.prompt;
    }
    var form = el("form");
    var input = el("input");
    input.type = "text";
    input.setAttribute("aria-label", "Your answer, in " + question.unit);
    input.placeholder = "answer in " + question.unit + ", like " + (EXAMPLES[question.unit] || "2 GiB or 175B");
    input.autocomplete = "off";
    var check = el("button", "md-button", "Check");
    check.type = "submit";
    var another = el("button", "md-button graded-another", "New numbers");
    another.type = "button";
    another.hidden = !question.formula && question.instances.length < 2;
    var verdict = el("p", "graded-verdict");
    verdict.setAttribute("aria-live", "polite");
    form.append(input, check, another);
    box.append(prompt, form, verdict);
    var graded = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var given, reading;
      try {
        reading = readQuantity(input.value, question.unit);
        given = reading.value;
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        verdict.className = "graded-verdict";
        verdict.textContent = e.message; // not marked wrong: the reader is asked again
        return;
      }
      var right = closeEnough(given, instance.expected, question.tolerance);
      verdict.className = "graded-verdict " + (right ? "right" : "wrong");
      var text = (right ? "Right: " : "Not quite: the answer is ") + instance.shown +
        " (within ±" + Number((question.tolerance * 100).toPrecision(3)) + "%).";
      // the liberties taken reading it ("2,5 read as 2.5"), as the terminal says them
      if (reading.notes.length) text += " (" + reading.notes.join("; ") + ".)";
      if (!graded) text += " " + score(note(data.card, "numeric", right));
      graded = true;
      verdict.textContent = text;
    });
    another.addEventListener("click", function () {
      var next = box.nextSibling;
      box.remove();
      numericQuestion(root, data, question, next); // in the same place, so a page with several keeps its order
      if (typeof renderQuizMath === "function") renderQuizMath(root);
    });
    root.insertBefore(box, before || null);
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

  return {
    parseQuantity: parseQuantity, readQuantity: readQuantity, FormatError: FormatError, closeEnough: closeEnough,
    exportProgress: exportProgress, drawParams: drawParams, instanceFor: instanceFor,
  };
})();
