// Progress bars of background jobs (evaluate/_jobs.html): each unfinished job's status is
// polled once a second until it is done or failed; then its download link is shown (and a
// finished roster import reloads the page, which shows what it imported or refused).
(function () {
  "use strict";
  var FINISHED = { done: true, failed: true };

  function show(item, doc) {
    var bar = item.querySelector("progress");
    if (doc.total > 0) {
      bar.max = doc.total;
      bar.value = doc.done;
    } else if (doc.status === "done") {
      bar.max = 1;
      bar.value = 1;
    }
    item.dataset.status = doc.status;
    // A failed job's reason (a fixed text the user can act on, never the error itself).
    var label = doc.status === "failed" && doc.reason ? doc.reason
      : item.dataset["label" + doc.status.charAt(0).toUpperCase() + doc.status.slice(1)];
    if (label) {
      item.querySelector(".job-state").textContent = label;
    }
    if (doc.status === "done" && doc.download) {
      var link = item.querySelector(".job-download");
      link.href = doc.download;
      link.hidden = false;
    }
  }

  function poll(item) {
    fetch(item.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (doc) {
        if (doc) {
          show(item, doc);
        }
        if (!doc || !FINISHED[doc.status]) {
          window.setTimeout(function () { poll(item); }, 1000);
        } else if (doc.status === "done" && "reloadWhenDone" in item.dataset) {
          // A roster import: the page shows its outcome (households, or every problem).
          window.setTimeout(function () { window.location.reload(); }, 1500);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(item); }, 3000); });
  }

  document.querySelectorAll("li.job[data-status-url]").forEach(function (item) {
    if (!FINISHED[item.dataset.status]) {
      poll(item);
    }
  });
})();
