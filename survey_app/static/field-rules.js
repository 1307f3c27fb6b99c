/* The questionnaire's rules in the browser: skip logic and validation read from the
   definition (Questionnaire.to_dict()), the same rules as questionnaires/answers.py
   validate_answers. Tested for agreement with the server in tests/entry/test_field_rules.py. */
(function (root) {
  "use strict";
  // Python's str.isspace() characters: what str.strip() removes.
  var SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003" +
    "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
  var BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069";
  var MAX_DIGITS = 18;

  function strip(s) {
    var a = 0, b = s.length;
    while (a < b && SPACE.indexOf(s[a]) >= 0) a++;
    while (b > a && SPACE.indexOf(s[b - 1]) >= 0) b--;
    return s.slice(a, b);
  }

  function control(ch) {  // Unicode categories Cc and Cs
    var c = ch.charCodeAt(0);
    return ch.length === 1 && (c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
                               (c >= 0xd800 && c <= 0xdfff));
  }

  function cleanText(text) {
    text = text.replace(/\r\n/g, "\n").replace(/\r/g, "\n").replace(/\t/g, " ");
    var kept = "";
    for (var ch of text) {
      if (ch === "\n" || (!control(ch) && BIDI.indexOf(ch) < 0)) kept += ch;
    }
    return strip(kept);
  }

  function questions(def) {
    var out = [];
    def.sections.forEach(function (s) { out.push.apply(out, s.questions); });
    return out;
  }

  function codesOf(cond) { return cond.equals !== undefined ? [cond.equals] : cond["in"]; }

  function matches(cond, value) {
    var codes = codesOf(cond);
    if (typeof value === "string") return codes.indexOf(value) >= 0;
    if (Array.isArray(value)) return value.some(function (v) { return codes.indexOf(v) >= 0; });
    return false;
  }

  function isShown(q, values, shown) {
    var c = q.show_if;
    return !c || (shown.has(c.question) && matches(c, values[c.question]));
  }

  function posted(raw, id) {
    var item = raw[id];
    if (item === undefined || item === null) return [];
    var items = Array.isArray(item) ? item : [item];
    return items.filter(function (x) { return x !== null && x !== undefined; }).map(String);
  }

  function cleanInteger(q, entry) {
    entry = strip(entry.normalize("NFKC"));
    if (!/^[+-]?[0-9]+$/.test(entry)) return [null, "not_an_integer"];
    var sign = entry[0] === "-" ? "-" : "";
    var digits = entry.replace(/^[+-]/, "").replace(/^0+/, "") || "0";
    if (digits.length > MAX_DIGITS) return [null, "out_of_range"];
    var n = BigInt(sign + digits);
    if ((q.min !== undefined && n < BigInt(q.min)) || (q.max !== undefined && n > BigInt(q.max))) {
      return [null, "out_of_range"];
    }
    return [Number(n), null];
  }

  function cleanChoice(def, q, entry) {
    var valid;
    if (q.type === "rating") {
      valid = Object.prototype.hasOwnProperty.call(def.scale.codes, entry) ||
        (q.allow_na !== false && entry === (def.scale.na_code || "9"));
    } else {
      valid = q.options.some(function (o) { return o.code === entry; });
    }
    return valid ? [entry, null] : [null, "invalid_choice"];
  }

  function clean(def, q, entries) {
    if (q.type === "text") {
      var texts = entries.map(cleanText).filter(Boolean);
      if (!texts.length) return [null, null];
      return [...texts[0]].length > (q.max_length || 500) ? [null, "too_long"] : [texts[0], null];
    }
    entries = entries.map(strip).filter(Boolean);
    if (!entries.length) return [null, null];
    if (q.type === "multiple") {
      var codes = q.options.map(function (o) { return o.code; });
      if (entries.some(function (e) { return codes.indexOf(e) < 0; })) return [null, "invalid_choice"];
      return [Array.from(new Set(entries)).sort(function (a, b) { return a - b; }), null];
    }
    if (new Set(entries).size > 1) {
      return [null, q.type === "integer" ? "not_an_integer" : "invalid_choice"];
    }
    return q.type === "integer" ? cleanInteger(q, entries[0]) : cleanChoice(def, q, entries[0]);
  }

  /* {values, errors} as validate_answers(questionnaire, raw, partial=partial). */
  function validateAnswers(def, raw, partial) {
    var values = {}, errors = {}, shown = new Set();
    questions(def).forEach(function (q) {
      if (!isShown(q, values, shown)) return;
      shown.add(q.id);
      var r = clean(def, q, posted(raw, q.id));
      if (r[1] !== null) errors[q.id] = r[1];
      else if (r[0] !== null) values[q.id] = r[0];
      else if (q.required !== false && !partial) errors[q.id] = "required";
    });
    return {values: values, errors: errors};
  }

  /* The questions shown given the cleaned answers so far (visible_questions). */
  function visibleQuestions(def, values) {
    var shown = new Set();
    return questions(def).filter(function (q) {
      if (!isShown(q, values, shown)) return false;
      shown.add(q.id);
      return true;
    });
  }

  root.FieldRules = {validateAnswers: validateAnswers, visibleQuestions: visibleQuestions,
                     questions: questions, cleanText: cleanText};
})(typeof self !== "undefined" ? self : this);
