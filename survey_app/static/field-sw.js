/* The field page's service worker (served with FIELD_VERSION, FIELD_BASE and FIELD_FILES
   prepended by entry/field.py): keeps the page, its files and the field pack for working
   without a network, and sends waiting interviews by Background Sync. */
importScripts(FIELD_FILES.filter(function (f) { return /field-store\.js$/.test(f); })[0]);
var CACHE = "field-" + FIELD_VERSION;
var PACK = FIELD_BASE + "pack.json";
var SLUG = FIELD_BASE.split("/")[2];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(FIELD_FILES.concat([FIELD_BASE]))
      .then(function () { return fetch(PACK, {credentials: "same-origin"}); })
      .then(function (res) { if (res.ok) return cache.put(PACK, res); });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("field-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function keep(request, res) {
  // Only a real answer is kept: never a login redirect or an error page.
  if (res.ok && !res.redirected && res.type === "basic") {
    var copy = res.clone();
    caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
  }
  return res;
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  var path = url.pathname;
  if (path === PACK) {  // network first: fresh households and token; the copy offline
    event.respondWith(fetch(request).then(function (res) { return keep(PACK, res); },
      function () { return caches.match(PACK); }));
  } else if (path === FIELD_BASE || FIELD_FILES.indexOf(path) >= 0) {
    // The copy at once (a stairwell's weak signal must not make the page wait), refreshed behind.
    var key = path === FIELD_BASE ? FIELD_BASE : request;
    event.respondWith(caches.match(key).then(function (cached) {
      var fresh = fetch(request).then(function (res) { return keep(key, res); });
      if (!cached) return fresh;
      fresh.catch(function () {});  // offline: the copy stands
      return cached;
    }));
  }
});

function notify() {
  return self.clients.matchAll().then(function (clients) {
    clients.forEach(function (c) { c.postMessage("field-synced"); });
  });
}

self.addEventListener("sync", function (event) {
  if (event.tag !== "field-interviews") return;
  event.waitUntil(FieldStore.syncAll(SLUG, {pack: PACK, sync: FIELD_BASE + "interviews"})
    .then(function (status) {
      return notify().then(function () { if (status === "failed") throw new Error("retry"); });
    }));
});
