/* Interviews kept on the phone (IndexedDB) and sent exactly once: shared by the field page
   and its service worker (Background Sync). Each interview carries its instance id (a UUID
   made when it was finished); the server stores an instance once and answers a repeat with
   the same receipt, so a send cut off half-way is simply sent again. */
(function (root) {
  "use strict";
  var DB = "survey-field", STORE = "interviews", CONTACTS = "contacts";

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 2);
      req.onupgradeneeded = function () {
        var names = req.result.objectStoreNames;
        if (!names.contains(STORE)) req.result.createObjectStore(STORE, {keyPath: "instance_id"});
        if (!names.contains(CONTACTS)) req.result.createObjectStore(CONTACTS, {keyPath: "slug"});
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function run(mode, work, store) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(store || STORE, mode), result;
        var req = work(tx.objectStore(store || STORE));
        if (req) req.onsuccess = function () { result = req.result; };
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function all(slug) {
    return run("readonly", function (s) { return s.getAll(); }).then(function (rows) {
      return rows.filter(function (r) { return r.slug === slug; })
        .sort(function (a, b) { return a.saved_at < b.saved_at ? -1 : 1; });
    });
  }

  function put(record) { return run("readwrite", function (s) { return s.put(record); }); }

  function locked(work) {
    // One sync at a time across tabs and the worker; the server's idempotency covers the rest.
    return root.navigator && navigator.locks ? navigator.locks.request("survey-field-sync", work)
      : work();
  }

  function post(urls, token, r) {
    return fetch(urls.sync, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token,
                "Accept": "application/json"},
      body: JSON.stringify({instance_id: r.instance_id, household_id: r.household_id,
                            answers: r.answers, paradata: r.paradata, worker: r.worker})
    });
  }

  /* Send every waiting interview of the campaign; resolves to "done", "idle", "login" or
     "failed" (the network or the server: try again later). */
  function syncAll(slug, urls) {
    return locked(function () {
      return all(slug).then(function (rows) {
        var waiting = rows.filter(function (r) { return r.state === "waiting"; });
        if (!waiting.length) return "idle";
        return fetch(urls.pack, {credentials: "same-origin", cache: "no-store",
                                 headers: {"Accept": "application/json"}})
          .then(function (res) {
            if (res.status === 401) return "login";
            if (!res.ok) return "failed";
            return res.json().then(function (pack) {
              // A shared phone: another account's interviews wait for that account.
              var own = waiting.filter(function (r) {
                return r.worker === undefined || r.worker === pack.worker;  // undefined: saved before
              });
              return own.length ? sendEach(urls, pack.csrf_token, own) : "idle";
            });
          }, function () { return "failed"; });
      });
    });
  }

  function sendEach(urls, token, waiting) {
    var i = 0;
    function step() {
      if (i >= waiting.length) return Promise.resolve("done");
      var r = waiting[i++];
      return post(urls, token, r).then(function (res) {
        if (res.status === 401) return "login";
        var json = (res.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        if (res.status >= 500 || (!json && res.status !== 404)) return "failed";
        // 404: the household is no longer the worker's (or the survey is gone): kept, shown.
        return (json ? res.json() : Promise.resolve({error: "not_found"})).then(function (body) {
          if (body.error === "csrf") return "failed";
          if (body.error === "worker") return step();  // kept waiting for its own account
          r.state = res.ok ? "sent" : "refused";
          r.receipt = body.receipt || null;
          r.message = body.message || body.error || "";
          r.enter = body.enter || null;  // unsampled: the paper entry page of the household
          r.sent_at = new Date().toISOString();
          // Stored on the server: the household's name, address and phone leave the phone,
          // so the next interview starts from a list without them.
          return put(r).then(function () {
            return r.state === "sent" ? forget(r.slug, r.household_id) : null;
          }).then(step);
        });
      }, function () { return "failed"; });
    }
    return step();
  }

  /* The addresses the vault let the worker keep offline (see entry/field.py contacts). */
  function contactsRow(slug) {
    return run("readonly", function (s) { return s.get(slug); }, CONTACTS);
  }

  /* The kept contacts, or (with ``value``) keep them for account ``worker`` (null: drop). */
  function contacts(slug, value, worker) {
    if (value === undefined) {
      return contactsRow(slug).then(function (row) { return row ? row.contacts : null; });
    }
    return run("readwrite", function (s) {
      return value ? s.put({slug: slug, contacts: value, worker: worker}) : s.delete(slug);
    }, CONTACTS);
  }

  /* Another account signed in on this phone: the addresses fetched under the previous one
     leave it (they were revealed to that worker, for that worker's visits). */
  function keepContactsOf(slug, worker) {
    return contactsRow(slug).then(function (row) {
      return row && row.worker !== worker ? contacts(slug, null) : null;
    });
  }

  /* Drop one household's kept contact (all of them when it was the last). */
  function forget(slug, householdId) {
    return contactsRow(slug).then(function (row) {
      var kept = row && row.contacts;
      if (!kept || !(String(householdId) in kept)) return null;
      delete kept[String(householdId)];
      return contacts(slug, Object.keys(kept).length ? kept : null, row.worker);
    });
  }

  root.FieldStore = {all: all, put: put, syncAll: syncAll, contacts: contacts, forget: forget,
                     keepContactsOf: keepContactsOf};
})(typeof self !== "undefined" ? self : this);
