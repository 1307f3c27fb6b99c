/* The offline interviewer page (entry/field.py): households, one question per screen, the
   interview kept on the phone when finished, sent when there is a network. No framework. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.body.getAttribute("data-config"));
  var T = cfg.texts, urls = {pack: cfg.pack, sync: cfg.sync};
  var $ = function (id) { return document.getElementById(id); };
  var pack = null, records = [], cur = null, contacts = null;

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  function tr(text) {
    return text ? (cfg.locale.indexOf("en") === 0 && text.en ? text.en : text.zh_CN) : "";
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function cached() {  // the service worker's copy: interviews go on while logged out
    return window.caches ? caches.match(urls.pack).then(function (res) {
      return res ? res.json() : null;
    }) : Promise.resolve(null);
  }

  function loadPack() {
    return fetch(urls.pack, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (res) {
        if (res.status === 401) $("login").hidden = false;
        return res.ok ? res.json() : cached();
      }, cached);
  }

  function refresh() {
    return FieldStore.contacts(cfg.slug).then(function (kept) {
      contacts = kept;
      $("get-contacts").hidden = !!kept;
      $("drop-contacts").hidden = !kept;
      $("contacts-kept").textContent = kept ? fmt(T.contacts_kept, {n: Object.keys(kept).length}) : "";
      return FieldStore.all(cfg.slug);
    }).then(function (rows) {
      records = rows;
      var waiting = rows.filter(function (r) { return r.state === "waiting"; }).length;
      $("count").textContent = fmt(T.waiting, {n: waiting});
      $("count").className = waiting ? "count waiting" : "count";
      $("net").textContent = navigator.onLine ? T.online : T.offline;
      renderHouseholds();
      renderOutcomes();
    });
  }

  function renderHouseholds() {
    var list = $("households"), taken = {};
    list.textContent = "";
    records.forEach(function (r) { if (r.state !== "refused") taken[r.household_id] = true; });
    if (!pack) { list.appendChild(el("li", {}, T.no_pack)); return; }
    if (!pack.households.length) list.appendChild(el("li", {}, T.none));
    pack.households.forEach(function (h) {
      var li = el("li"), b = el("button", {type: "button", "class": "big", "data-id": h.id},
                                taken[h.id] ? T.done : T.start);
      b.disabled = !!taken[h.id];
      li.appendChild(el("span", {"class": "code"}, h.code));
      li.appendChild(el("span", {"class": "group"}, T[h.group] || h.group));
      li.appendChild(b);
      var c = contacts && contacts[h.id];
      if (c) {
        var p = el("p", {"class": "contact"}, [c.name, c.address].filter(Boolean).join(" · ") + " ");
        if (c.phone) p.appendChild(el("a", {href: "tel:" + c.phone.split(/[,;，；\s]/)[0]}, c.phone));
        li.appendChild(p);
      }
      list.appendChild(li);
    });
  }

  function renderOutcomes() {
    var list = $("outcomes");
    list.textContent = "";
    records.filter(function (r) { return r.state !== "waiting"; }).forEach(function (r) {
      var li = el("li", {"class": r.state}, r.code + " · " +
        (r.state === "sent" ? fmt(T.sent, {receipt: r.receipt}) : r.message));
      if (r.state === "refused") li.appendChild(keptAnswers(r));
      list.appendChild(li);
    });
  }

  /* A refused interview stays on the phone: its answers, numbered as on the paper form
     (every question of the questionnaire, in order), so it can be keyed on paper entry. */
  function keptAnswers(r) {
    var box = el("details"), ol = el("ol", {"class": "kept"});
    var q = pack && r.group && pack.questionnaires[r.group];
    var all = q ? FieldRules.questions(q.definition) : Object.keys(r.answers).map(function (id) {
      return {id: id};
    });
    box.appendChild(el("summary", {}, T.answers_kept));
    all.forEach(function (x, i) {
      var a = r.answers[x.id];
      if (a === undefined || a === "" || (Array.isArray(a) && !a.length)) return;
      var li = el("li", {value: i + 1}, (x.text ? tr(x.text) : x.id) + " ");
      li.appendChild(el("b", {}, Array.isArray(a) ? a.join(", ") : a));  // the code to type
      ol.appendChild(li);
    });
    box.appendChild(ol);
    if (r.enter) box.appendChild(el("a", {href: r.enter, "class": "enter"}, T.paper_entry));
    return box;
  }

  // asked: the worker pressed "Send now", who is told when there was nothing to send
  // (the button otherwise looked as if it did nothing).
  function sync(asked) {
    $("message").textContent = T.syncing;
    return FieldStore.syncAll(cfg.slug, urls).then(function (status) {
      $("login").hidden = status !== "login";
      // "done" says nothing here: a refused interview is listed below with its reason.
      $("message").textContent = status === "failed" ? T.failed
        : status === "idle" && asked === true ? T.nothing : "";
      if (status === "failed") backgroundSync();
      return refresh();
    }, function () { $("message").textContent = T.failed; });
  }

  function backgroundSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync) return reg.sync.register("field-interviews");
    }).catch(function () {});
  }

  // --- the interview ------------------------------------------------------------------
  function position() {
    var choice = localStorage.getItem("field-position");
    if (choice !== "yes") return Promise.resolve({status: choice === "no" ? "refused" : "not_asked"});
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { resolve({status: "unavailable"}); return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve({status: "given", latitude: p.coords.latitude, longitude: p.coords.longitude,
                 accuracy: p.coords.accuracy});
      }, function (e) { resolve({status: e.code === 1 ? "refused" : "unavailable"}); },
      {timeout: 15000, maximumAge: 120000});
    });
  }

  function start(id) {
    var h = pack.households.filter(function (x) { return x.id === id; })[0];
    var def = pack.questionnaires[h.group].definition;
    cur = {h: h, def: def, answers: {}, seconds: {}, started: new Date().toISOString(),
           position: {status: "not_asked"}, q: null};
    position().then(function (p) { if (cur) cur.position = p; });
    $("list").hidden = $("results").hidden = $("position").hidden = true;
    $("interview").hidden = false;
    document.body.className = "interviewing";
    show(visible()[0]);
  }

  function visible() {
    var values = FieldRules.validateAnswers(cur.def, cur.answers, true).values;
    return FieldRules.visibleQuestions(cur.def, values);
  }

  function options(q) {
    if (q.type !== "rating") return q.options;
    var s = cur.def.scale, out = Object.keys(s.codes).sort().reverse().map(function (c) {
      return {code: c, label: s.codes[c]};
    });
    if (q.allow_na !== false) out.push({code: s.na_code || "9", label: s.na_label});
    return out;
  }

  function show(q) {
    var form = $("question"), seen = visible(), answer = cur.answers[q.id];
    cur.q = q; cur.shownAt = Date.now();
    window.scrollTo(0, 0);
    form.textContent = "";
    $("error").hidden = true;
    $("progress").textContent = cur.h.code + " · " +
      fmt(T.of, {i: seen.indexOf(q) + 1, n: seen.length});
    form.appendChild(el("p", {"class": "text", id: "qtext"}, tr(q.text)));
    if (q.help) form.appendChild(el("p", {"class": "help"}, tr(q.help)));
    if (q.type === "integer" || q.type === "text") {
      var input = q.type === "text" ? el("textarea", {rows: 4, maxlength: q.max_length || 500})
        : el("input", {type: "text", inputmode: "numeric", autocomplete: "off"});
      input.name = "answer"; input.value = answer || ""; input.setAttribute("aria-labelledby", "qtext");
      form.appendChild(input);
    } else {
      options(q).forEach(function (o) {
        var label = el("label", {"class": "option"}), box = el("input", {
          type: q.type === "multiple" ? "checkbox" : "radio", name: "answer", value: o.code});
        box.checked = Array.isArray(answer) ? answer.indexOf(o.code) >= 0 : answer === o.code;
        label.appendChild(box);
        label.appendChild(el("span", {}, tr(o.label)));
        form.appendChild(label);
      });
    }
    $("back").disabled = seen.indexOf(q) === 0;
    $("next").textContent = seen.indexOf(q) === seen.length - 1 ? T.finish : T.next;
  }

  function read(q) {
    var form = $("question");
    if (q.type === "integer" || q.type === "text") return form.elements.answer.value;
    var picked = Array.prototype.filter.call(form.querySelectorAll("input"), function (i) {
      return i.checked;
    }).map(function (i) { return i.value; });
    return q.type === "multiple" ? picked : (picked[0] || "");
  }

  function leave() {
    var q = cur.q;
    cur.answers[q.id] = read(q);
    cur.seconds[q.id] = (cur.seconds[q.id] || 0) + (Date.now() - cur.shownAt) / 1000;
    return q;
  }

  function next() {
    var q = leave(), check = FieldRules.validateAnswers(cur.def, cur.answers, false);
    if (check.errors[q.id]) {
      $("error").textContent = T[check.errors[q.id]]; $("error").hidden = false;
      cur.shownAt = Date.now();
      return;
    }
    var seen = visible(), after = seen[seen.indexOf(q) + 1];
    if (after) { show(after); return; }
    var wrong = seen.filter(function (x) { return check.errors[x.id]; })[0];
    if (wrong) { show(wrong); return; }
    finish(seen);
  }

  function finish(seen) {
    var answers = {};
    seen.forEach(function (q) { if (cur.answers[q.id] !== undefined) answers[q.id] = cur.answers[q.id]; });
    var record = {instance_id: crypto.randomUUID(), slug: cfg.slug, household_id: cur.h.id,
      worker: pack.worker, group: cur.h.group,
      code: cur.h.code, answers: answers, state: "waiting", saved_at: new Date().toISOString(),
      paradata: {started_at: cur.started, ended_at: new Date().toISOString(),
                 question_seconds: cur.seconds, position: cur.position}};
    FieldStore.put(record).then(function () {
      close();
      $("message").textContent = T.kept;
      backgroundSync();
      return refresh().then(function () { if (navigator.onLine) return sync(); });
    });
  }

  function close() {
    cur = null;
    document.body.className = "";
    $("interview").hidden = true;
    $("list").hidden = $("results").hidden = false;
    $("position").hidden = localStorage.getItem("field-position") !== null;
  }

  // --- wiring -------------------------------------------------------------------------
  $("households").addEventListener("click", function (e) {
    var id = e.target.getAttribute && e.target.getAttribute("data-id");
    if (id && !e.target.disabled) start(Number(id));
  });
  $("next").addEventListener("click", next);
  $("back").addEventListener("click", function () {
    var q = leave(), seen = visible();
    show(seen[Math.max(0, seen.indexOf(q) - 1)]);
  });
  $("cancel").addEventListener("click", close);
  $("question").addEventListener("submit", function (e) { e.preventDefault(); next(); });
  $("sync").addEventListener("click", function () { sync(true); });
  $("get-contacts").addEventListener("click", function () {
    var worker = null;
    fetch(urls.pack, {cache: "no-store", credentials: "same-origin"}).then(function (res) {
      if (res.status === 401) { $("login").hidden = false; throw new Error("login"); }
      return res.json();
    }).then(function (p) {
      worker = p.worker;
      return fetch(cfg.contacts, {method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": p.csrf_token, "Accept": "application/json"}});
    }).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) { $("message").textContent = body.message || T.failed; return; }
        return FieldStore.contacts(cfg.slug, body.contacts, worker);
      });
    }).then(refresh, function () { if ($("login").hidden) $("message").textContent = T.failed; });
  });
  $("drop-contacts").addEventListener("click", function () {
    FieldStore.contacts(cfg.slug, null).then(refresh);
  });
  $("position").addEventListener("click", function (e) {
    var choice = e.target.getAttribute("data-position");
    if (choice) { localStorage.setItem("field-position", choice); $("position").hidden = true; }
  });
  $("position").hidden = localStorage.getItem("field-position") !== null;
  window.addEventListener("online", sync);
  window.addEventListener("offline", refresh);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(cfg.sw).catch(function () {});
    navigator.serviceWorker.addEventListener("message", refresh);
  }
  loadPack().then(function (p) {
    pack = p;
    return p ? FieldStore.keepContactsOf(cfg.slug, p.worker) : null;
  }).then(function () {
    return refresh();
  }).then(function () { if (navigator.onLine) return sync(); });
})();
