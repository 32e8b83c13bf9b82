// Python's number semantics in JavaScript, for the formulas that quiz/site/formulas_js.py translates from
// answers/formulas/ into assets/formulas.js. A Python int is a BigInt (exact at any size, so // and % and ** on
// integers give Python's digits, not a double's), a float is a Number, a bool a boolean, None null. Every
// operator follows CPython: // and % round toward −∞ with the divisor's sign, int / int is the correctly
// rounded quotient, int ** negative int is a float, round() halves to even, and what Python raises on
// (division by zero, a float overflow, math domain errors) throws a PyError here instead of giving inf or NaN.
// Where JS cannot match bit for bit: Math.exp/log/pow/cos may differ from the C library's by an ulp (sqrt is
// exact in both); tests/test_site_formulas.py bounds the difference at 1e-12 relative on every drawn question.
var PyRT = (function () {
  "use strict";

  function PyError(kind, message) { this.kind = kind; this.message = kind + ": " + message; }
  PyError.prototype.toString = function () { return this.message; };
  function fail(kind, message) { throw new PyError(kind, message); }

  function isInt(x) { return typeof x === "bigint"; }
  function isFloat(x) { return typeof x === "number"; }
  function num(x) { // a bool in arithmetic is the int 0 or 1, as in Python
    if (typeof x === "boolean") return x ? 1n : 0n;
    if (isInt(x) || isFloat(x)) return x;
    return fail("TypeError", "unsupported operand " + String(x));
  }
  function toFloat(x) {
    x = num(x);
    if (isFloat(x)) return x;
    var f = Number(x); // correctly rounded, as Python's int → float
    if (!isFinite(f)) fail("OverflowError", "int too large to convert to float");
    return f;
  }
  function checked(f) { // a float result Python would have raised on instead
    if (!isFinite(f)) fail("OverflowError", "result out of range");
    return f;
  }

  function add(a, b) {
    a = num(a); b = num(b);
    return isInt(a) && isInt(b) ? a + b : toFloat(a) + toFloat(b);
  }
  function sub(a, b) {
    a = num(a); b = num(b);
    return isInt(a) && isInt(b) ? a - b : toFloat(a) - toFloat(b);
  }
  function mul(a, b) {
    a = num(a); b = num(b);
    return isInt(a) && isInt(b) ? a * b : toFloat(a) * toFloat(b);
  }
  function neg(a) { a = num(a); return isInt(a) ? -a : -a; }
  function pos(a) { return num(a); }
  function bitLength(n) { return n < 0n ? (-n).toString(2).length : n.toString(2).length; }

  // int / int: CPython divides the exact integers and rounds once. A quotient with ≥ 55 significant bits and a
  // sticky low bit for a non-zero remainder rounds to the same double as the exact quotient.
  function intTrueDiv(a, b) {
    if (b === 0n) fail("ZeroDivisionError", "division by zero");
    var LIMIT = 9007199254740992n; // 2^53: both exact as doubles, so one IEEE division is correctly rounded
    if (a < LIMIT && a > -LIMIT && b < LIMIT && b > -LIMIT) return Number(a) / Number(b);
    var negative = (a < 0n) !== (b < 0n);
    if (a < 0n) a = -a;
    if (b < 0n) b = -b;
    var shift = Math.max(0, 55 - (bitLength(a) - bitLength(b)) + 1);
    var q = (a << BigInt(shift)) / b;
    if ((a << BigInt(shift)) % b !== 0n) q |= 1n;
    var value = Number(q) / Math.pow(2, shift);
    if (!isFinite(value) || (value === 0 && q !== 0n)) fail("OverflowError", "integer division result too large");
    return checked(negative ? -value : value);
  }
  function truediv(a, b) {
    a = num(a); b = num(b);
    if (isInt(a) && isInt(b)) return intTrueDiv(a, b);
    var x = toFloat(a), y = toFloat(b);
    if (y === 0) fail("ZeroDivisionError", "float division by zero");
    return x / y;
  }
  function floordiv(a, b) {
    a = num(a); b = num(b);
    if (isInt(a) && isInt(b)) {
      if (b === 0n) fail("ZeroDivisionError", "integer division or modulo by zero");
      var q = a / b;
      if (a % b !== 0n && (a < 0n) !== (b < 0n)) q -= 1n;
      return q;
    }
    var vx = toFloat(a), wx = toFloat(b);
    if (wx === 0) fail("ZeroDivisionError", "float floor division by zero");
    // CPython's float_floor_div (Objects/floatobject.c): from fmod, not Math.floor(x / y) (1 // 0.1 is 9.0)
    var mod = vx % wx, div = (vx - mod) / wx;
    if (mod && (wx < 0) !== (mod < 0)) { mod += wx; div -= 1; }
    var floordivided;
    if (div) {
      floordivided = Math.floor(div);
      if (div - floordivided > 0.5) floordivided += 1;
    } else {
      floordivided = (vx / wx < 0 || Object.is(vx / wx, -0)) ? -0 : 0;
    }
    return floordivided;
  }
  function mod(a, b) {
    a = num(a); b = num(b);
    if (isInt(a) && isInt(b)) {
      if (b === 0n) fail("ZeroDivisionError", "integer division or modulo by zero");
      var r = a % b;
      if (r !== 0n && (r < 0n) !== (b < 0n)) r += b;
      return r;
    }
    var vx = toFloat(a), wx = toFloat(b);
    if (wx === 0) fail("ZeroDivisionError", "float modulo");
    var m = vx % wx;
    if (m) { if ((wx < 0) !== (m < 0)) m += wx; } else m = wx < 0 ? -0 : 0;
    return m;
  }
  function floatPow(x, y) {
    // CPython's float_pow special cases, where C's pow and JS's ** part ways
    if (y === 0) return 1;
    if (isNaN(x)) return x;
    if (isNaN(y)) return x === 1 ? 1 : y;
    if (x === 1) return 1; // JS: 1 ** Infinity is NaN
    if (!isFinite(y)) {
      if (x === -1) return 1; // JS: NaN
      return Math.abs(x) === 1 ? 1 : Math.pow(x, y);
    }
    if (x === 0 && y < 0) fail("ZeroDivisionError", "0.0 cannot be raised to a negative power");
    if (x < 0 && !Number.isInteger(y)) fail("ValueError", "a negative number to a fractional power is complex");
    var r = Math.pow(x, y);
    if (!isFinite(r) && isFinite(x)) fail("OverflowError", "(34, 'Numerical result out of range')");
    return r;
  }
  function pow(a, b) {
    a = num(a); b = num(b);
    if (isInt(a) && isInt(b)) {
      if (b < 0n) return floatPow(toFloat(a), toFloat(b));
      if (a !== 0n && a !== 1n && a !== -1n && BigInt(bitLength(a)) * b > 100000n) {
        fail("OverflowError", "an integer of more than 100,000 bits; no question needs one");
      }
      return a ** b;
    }
    return floatPow(toFloat(a), toFloat(b));
  }

  // Comparisons are exact between a BigInt and a Number in JS, as between an int and a float in Python.
  function lt(a, b) { return num(a) < num(b); }
  function le(a, b) { return num(a) <= num(b); }
  function gt(a, b) { return num(a) > num(b); }
  function ge(a, b) { return num(a) >= num(b); }
  function eq(a, b) {
    if (a === null || b === null) return a === b;
    return num(a) == num(b); // eslint-disable-line eqeqeq -- loose: 2n == 2.0 is true, as 2 == 2.0 in Python
  }
  function ne(a, b) { return !eq(a, b); }
  function truth(x) {
    if (x === null) return false;
    if (typeof x === "boolean") return x;
    if (isInt(x)) return x !== 0n;
    if (isFloat(x)) return x !== 0; // NaN is true in Python, and NaN !== 0
    if (Array.isArray(x)) return x.length > 0;
    return fail("TypeError", "no truth value for " + String(x));
  }

  // ---- builtins
  function minmax(args, greater) {
    var items = args.length === 1 ? iter(args[0]) : args;
    if (!items.length) fail("ValueError", "arg is an empty sequence");
    var best = items[0];
    for (var i = 1; i < items.length; i++) if (greater ? gt(items[i], best) : lt(items[i], best)) best = items[i];
    return best;
  }
  function min() { return minmax(Array.prototype.slice.call(arguments), false); }
  function max() { return minmax(Array.prototype.slice.call(arguments), true); }
  function abs(x) { x = num(x); return isInt(x) ? (x < 0n ? -x : x) : Math.abs(x); }
  function int(x) {
    if (typeof x === "boolean" || isInt(x)) return num(x);
    if (!isFinite(x)) fail(isNaN(x) ? "ValueError" : "OverflowError", "cannot convert float " + x + " to integer");
    return BigInt(Math.trunc(x));
  }
  function float(x) { return toFloat(x); }
  function round(x) { // one argument: the nearest int, ties to even
    x = num(x);
    if (isInt(x)) return x;
    if (!isFinite(x)) fail(isNaN(x) ? "ValueError" : "OverflowError", "cannot convert float " + x + " to integer");
    var f = Math.floor(x), d = x - f; // exact: below 2^52 the fraction is representable, above it x is whole
    var r = d > 0.5 ? f + 1 : d < 0.5 ? f : (f % 2 === 0 ? f : f + 1);
    return BigInt(r);
  }
  function iter(x) {
    if (Array.isArray(x)) return x;
    return fail("TypeError", "not iterable here: " + String(x));
  }
  function range(a, b, step) {
    var start = b === undefined ? 0n : int(a), stop = b === undefined ? int(a) : int(b);
    var s = step === undefined ? 1n : int(step);
    if (s === 0n) fail("ValueError", "range() arg 3 must not be zero");
    var out = [];
    for (var i = start; s > 0n ? i < stop : i > stop; i += s) {
      out.push(i);
      if (out.length > 1000000) fail("MemoryError", "a range of more than a million values");
    }
    return out;
  }
  function unpack(x, n) {
    var items = iter(x);
    if (items.length !== n) fail("ValueError", "expected " + n + " values to unpack, got " + items.length);
    return items;
  }
  function enumerate(x) { return iter(x).map(function (v, i) { return [BigInt(i), v]; }); }
  // Python 3.11's sum: left to right from the int 0 (3.12 compensates float sums; the exporter knows which).
  function sum(x) { return iter(x).reduce(function (acc, v) { return add(acc, v); }, 0n); }
  function sumInts(x) {
    return iter(x).reduce(function (acc, v) {
      if (isFloat(v)) fail("NotTranslated", "a sum of floats (Python ≥ 3.12 compensates it)");
      return add(acc, v);
    }, 0n);
  }

  // ---- math
  function unary(fn, name, domain) {
    return function (x) {
      var f = toFloat(x);
      if (domain && !domain(f)) fail("ValueError", "math domain error (" + name + ")");
      var r = fn(f);
      if (isNaN(r) && !isNaN(f)) fail("ValueError", "math domain error (" + name + ")");
      if (!isFinite(r) && isFinite(f)) fail("OverflowError", "math range error (" + name + ")");
      return r;
    };
  }
  function intLog(x, fn) { // an int too large for a double, as CPython's loghelper: frexp, then fn(m) + fn(2)·e
    var e = bitLength(x), shift = BigInt(e - 55);
    var q = x >> shift;
    if ((q << shift) !== x) q |= 1n; // sticky bit: m is the correctly rounded x / 2^e
    return fn(Number(q) / Math.pow(2, 55)) + fn(2) * e;
  }
  function log(x, base) {
    var one = function (v) {
      v = num(v);
      if (isInt(v) && v > 0n && !isFinite(Number(v))) return intLog(v, Math.log);
      var f = toFloat(v);
      if (!(f > 0)) fail("ValueError", "math domain error (log)");
      return Math.log(f);
    };
    if (base === undefined) return one(x);
    return truediv(one(x), one(base));
  }
  var math = {
    pi: Math.PI,
    e: Math.E,
    tau: 2 * Math.PI,
    inf: Infinity,
    sqrt: unary(Math.sqrt, "sqrt", function (f) { return !(f < 0); }),
    exp: unary(Math.exp, "exp"),
    log: log,
    log2: unary(Math.log2, "log2", function (f) { return f > 0; }),
    log10: unary(Math.log10, "log10", function (f) { return f > 0; }),
    cos: unary(Math.cos, "cos", function (f) { return isFinite(f); }),
    sin: unary(Math.sin, "sin", function (f) { return isFinite(f); }),
    tan: unary(Math.tan, "tan", function (f) { return isFinite(f); }),
    atan: unary(Math.atan, "atan"),
    tanh: unary(Math.tanh, "tanh"),
    floor: function (x) { x = num(x); return isInt(x) ? x : int(Math.floor(x)); },
    ceil: function (x) { x = num(x); return isInt(x) ? x : int(Math.ceil(x)); },
    fabs: function (x) { return Math.abs(toFloat(x)); },
    isfinite: function (x) { x = num(x); return isInt(x) || isFinite(x); },
    comb: function (n, k) {
      n = num(n); k = num(k);
      if (!isInt(n) || !isInt(k)) fail("TypeError", "comb() takes integers");
      if (n < 0n || k < 0n) fail("ValueError", "n and k must be non-negative integers");
      if (k > n) return 0n;
      if (k > n - k) k = n - k;
      var r = 1n;
      for (var i = 1n; i <= k; i++) r = (r * (n - k + i)) / i; // exact at each step: r is C(n − k + i, i)
      return r;
    },
  };

  // ---- Python's str.format for floats and ints: "{:g}", "{:.3g}", "{:.3e}", "{:,.0f}", "{:,}". Digits come from
  // the double's exact binary value (m · 2^e as a BigInt), rounded half to even as CPython's dtoa does; JS's
  // toPrecision rounds ties away from zero (1000.125 → "1000.13", Python "1000.12").
  function exactDecimal(x) { // |x| = n · 10^-scale exactly, x finite and non-zero
    var view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, Math.abs(x));
    var hi = view.getUint32(0), lo = view.getUint32(4);
    var exponent = (hi >>> 20) & 0x7ff;
    var mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    if (exponent) mantissa |= 1n << 52n; else exponent = 1;
    var e = exponent - 1075;
    if (e >= 0) return { n: mantissa << BigInt(e), scale: 0 };
    return { n: mantissa * 5n ** BigInt(-e), scale: -e };
  }
  function roundHalfEven(n, drop) { // n / 10^drop to an integer, ties to even (drop ≤ 0 multiplies)
    if (drop <= 0) return n * 10n ** BigInt(-drop);
    var unit = 10n ** BigInt(drop), q = n / unit, r = n % unit, twice = 2n * r;
    if (twice > unit || (twice === unit && q % 2n === 1n)) q += 1n;
    return q;
  }
  function group(digits) { return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
  function fixed(x, decimals, grouping) { // "{:.Nf}", "{:,.Nf}"
    var sign = x < 0 || Object.is(x, -0) ? "-" : "";
    var digits;
    if (x === 0) digits = "0".repeat(decimals + 1);
    else {
      var d = exactDecimal(x);
      digits = roundHalfEven(d.n, d.scale - decimals).toString().padStart(decimals + 1, "0");
    }
    var whole = digits.slice(0, digits.length - decimals), frac = digits.slice(digits.length - decimals);
    return sign + (grouping ? group(whole) : whole) + (decimals ? "." + frac : "");
  }
  function significant(x, precision) { // [digits (precision of them), decimal exponent of the first]
    if (x === 0) return ["0".repeat(precision), 0];
    var d = exactDecimal(x), exp10 = d.n.toString().length - 1 - d.scale;
    var r = roundHalfEven(d.n, d.scale - (precision - 1 - exp10)).toString();
    if (r.length > precision) { exp10 += 1; r = r.slice(0, precision); } // 9.995 → 10.0: one more digit, all 0
    return [r, exp10];
  }
  function exponentText(exp10) { return (exp10 < 0 ? "-" : "+") + String(Math.abs(exp10)).padStart(2, "0"); }
  function formatFloat(x, spec) {
    var m = /^(,?)(?:\.(\d+))?([gef])?$/.exec(spec);
    if (!m) throw new PyError("ValueError", "format spec " + spec + " is not ported");
    var grouping = m[1] === ",", type = m[3] || "g", precision = m[2] === undefined ? 6 : Number(m[2]);
    if (isNaN(x)) return "nan";
    if (!isFinite(x)) return x > 0 ? "inf" : "-inf";
    var sign = x < 0 || Object.is(x, -0) ? "-" : "";
    if (type === "f") return fixed(x, precision, grouping);
    if (type === "e") {
      var se = significant(Math.abs(x), precision + 1);
      return sign + se[0][0] + (precision ? "." + se[0].slice(1) : "") + "e" + exponentText(se[1]);
    }
    var p = precision || 1, sg = significant(Math.abs(x), p), digits = sg[0], exp10 = sg[1];
    if (exp10 >= -4 && exp10 < p) {
      var text = fixed(Math.abs(x), Math.max(p - 1 - exp10, 0), grouping);
      if (text.indexOf(".") >= 0) text = text.replace(/0+$/, "").replace(/\.$/, "");
      return sign + text;
    }
    var mantissa = digits[0] + (digits.length > 1 ? "." + digits.slice(1) : "");
    if (mantissa.indexOf(".") >= 0) mantissa = mantissa.replace(/0+$/, "").replace(/\.$/, "");
    return sign + mantissa + "e" + exponentText(exp10);
  }
  function format(x, spec) { // x a PyRT value: an int is formatted as Python formats an int
    x = num(x);
    if (isInt(x)) {
      if (spec === "" || spec === ",") return spec === "," ? (x < 0n ? "-" + group((-x).toString()) : group(x.toString())) : x.toString();
      return formatFloat(toFloat(x), spec); // "{:.3g}" of an int formats it as a float, as Python does
    }
    return formatFloat(x, spec);
  }

  // quiz/numeric/showing.py's format_param: a parameter as a question prints it
  function formatParam(value) {
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (isFloat(value) && Number.isInteger(value) && Math.abs(value) < 1e16) value = BigInt(value);
    if (isInt(value)) return format(value, abs(value) >= 100000n ? "," : "");
    return format(value, "g");
  }
  // quiz/numeric/showing.py's format_quantity: a value the way an interviewer would say it
  function trim(x) { return Math.abs(x) < 1000 ? format(x, ".3g") : format(x, ",.0f"); }
  function scientific(x) {
    var parts = format(x, ".3e").split("e");
    return parts[0].replace(/0+$/, "").replace(/\.$/, "") + "e" + String(Number(parts[1]));
  }
  var BYTE_SIZES = [["PiB", Math.pow(2, 50)], ["TiB", Math.pow(2, 40)], ["GiB", Math.pow(2, 30)], ["MiB", Math.pow(2, 20)], ["KiB", 1024]];
  var COUNT_SIZES = [["T", 1e12], ["B", 1e9], ["M", 1e6], ["K", 1e3]];
  var UNIT_WORD = { FLOPs: " FLOPs", parameters: " parameters", tokens: " tokens", count: "" };
  function formatQuantity(value, unit) {
    if (!isFinite(value)) return isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
    var i;
    if (unit === "bytes") {
      for (i = 0; i < BYTE_SIZES.length; i++) {
        if (Math.abs(value) >= BYTE_SIZES[i][1]) {
          if (Math.abs(value) >= Math.pow(2, 60)) return scientific(value) + " B";
          return trim(value / BYTE_SIZES[i][1]) + " " + BYTE_SIZES[i][0] + " (" + format(value, ",.0f") + " B)";
        }
      }
      return format(value, ",.0f") + " B";
    }
    if (unit === "ratio" || unit === "nats" || unit === "radians") {
      var text = format(value, ".4g").replace("e+", "e").replace("e-0", "e-").replace("e0", "e");
      return unit === "ratio" ? text : text + " " + unit;
    }
    var word = own(UNIT_WORD, unit) ? UNIT_WORD[unit] : "";
    if (Math.abs(value) >= 1e15) return scientific(value) + word;
    for (i = 0; i < COUNT_SIZES.length; i++) {
      if (Math.abs(value) >= COUNT_SIZES[i][1]) {
        return trim(value / COUNT_SIZES[i][1]) + COUNT_SIZES[i][0] + word + " (" + format(value, ",.0f") + ")";
      }
    }
    return (Number.isInteger(value) ? format(value, ",.0f") : format(value, ".4g")) + word;
  }
  function own(table, key) { return Object.prototype.hasOwnProperty.call(table, key); }

  function raise(kind, message) { return fail(kind, message); }
  function result(x) { // what the quiz grades: Python's float(value)
    var f = toFloat(x);
    if (!isFinite(f)) fail("ValueError", "the formula gives " + f + ", not a number a person can type");
    return f;
  }

  return {
    PyError: PyError, add: add, sub: sub, mul: mul, truediv: truediv, floordiv: floordiv, mod: mod, pow: pow,
    neg: neg, pos: pos, lt: lt, le: le, gt: gt, ge: ge, eq: eq, ne: ne, truth: truth, min: min, max: max,
    abs: abs, int: int, float: float, round: round, range: range, enumerate: enumerate, sum: sum, sumInts: sumInts,
    iter: iter, unpack: unpack, math: math, format: format, formatParam: formatParam,
    formatQuantity: formatQuantity, raise: raise, result: result, checked: checked,
  };
})();
