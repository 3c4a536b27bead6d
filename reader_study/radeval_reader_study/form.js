(function () {
  "use strict";
  var body = document.body;
  var packet = body.getAttribute("data-packet");
  var reader = body.getAttribute("data-reader");
  var criteria = JSON.parse(body.getAttribute("data-criteria"));
  var storageKey = "radeval-reader-study:" + packet + ":" + reader;
  var form = document.getElementById("ratings");
  var fieldsets = Array.prototype.slice.call(document.querySelectorAll("fieldset.item"));
  var progressBar = document.getElementById("progress");
  var progressText = document.getElementById("progress-text");
  var statusLine = document.getElementById("status");
  var allowIncomplete = document.getElementById("allow-incomplete");

  function setStatus(text, isError) {
    statusLine.textContent = text;
    statusLine.className = isError ? "error" : "";
  }

  function collect() {
    return fieldsets.map(function (fs) {
      var id = fs.getAttribute("data-item");
      var row = { item_id: id, scores: {}, comment: "" };
      criteria.forEach(function (c) {
        var checked = fs.querySelector('input[name="' + id + "__" + c + '"]:checked');
        row.scores[c] = checked ? Number(checked.value) : null;
      });
      row.comment = form.elements[id + "__comment"].value;
      return row;
    });
  }

  function isComplete(row) {
    return criteria.every(function (c) { return row.scores[c] !== null; });
  }

  function updateProgress(rows) {
    var done = 0;
    rows.forEach(function (row, i) {
      var complete = isComplete(row);
      if (complete) { done += 1; fieldsets[i].classList.remove("missing"); }
      fieldsets[i].classList.toggle("done", complete);
    });
    progressBar.value = done;
    progressText.textContent = done + " / " + rows.length + " reports rated";
    return done;
  }

  function persist() {
    var rows = collect();
    updateProgress(rows);
    try {
      window.localStorage.setItem(storageKey, JSON.stringify({ saved_at: new Date().toISOString(), ratings: rows }));
      setStatus("Work in progress is kept in this browser (" + new Date().toLocaleTimeString() + "). Save a file to hand it in.", false);
    } catch (err) {
      setStatus("This browser does not keep work in progress (" + err.name + "). Save a file before closing.", true);
    }
  }

  function restore() {
    var raw = null;
    try { raw = window.localStorage.getItem(storageKey); } catch (err) { return; }
    if (!raw) { return; }
    var data;
    try { data = JSON.parse(raw); } catch (err) { return; }
    (data.ratings || []).forEach(function (row) {
      criteria.forEach(function (c) {
        var v = row.scores ? row.scores[c] : null;
        if (v !== null && v !== undefined) {
          var el = document.getElementById(row.item_id + "__" + c + "__" + v);
          if (el) { el.checked = true; }
        }
      });
      var box = form.elements[row.item_id + "__comment"];
      if (box && row.comment) { box.value = row.comment; }
    });
    setStatus("Restored unsaved work from " + (data.saved_at || "an earlier session") + ".", false);
  }

  function csvCell(value) {
    var text = value === null || value === undefined ? "" : String(value);
    return '"' + text.replace(/"/g, '""') + '"';
  }

  function toCsv(rows, savedAt) {
    var header = ["packet_sha256", "reader", "item_id"].concat(criteria, ["comment", "saved_at"]);
    var lines = [header.map(csvCell).join(",")];
    rows.forEach(function (row) {
      var cells = [packet, reader, row.item_id];
      criteria.forEach(function (c) { cells.push(row.scores[c]); });
      cells.push(row.comment, savedAt);
      lines.push(cells.map(csvCell).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  function download(name, mime, text) {
    var url = URL.createObjectURL(new Blob([text], { type: mime }));
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(url); link.remove(); }, 2000);
  }

  function save(kind) {
    var rows = collect();
    var done = updateProgress(rows);
    var missing = [];
    rows.forEach(function (row, i) { if (!isComplete(row)) { missing.push(i); } });
    if (missing.length && !allowIncomplete.checked) {
      missing.forEach(function (i) { fieldsets[i].classList.add("missing"); });
      var first = fieldsets[missing[0]];
      first.scrollIntoView({ block: "center" });
      var radio = first.querySelector("input[type=radio]");
      if (radio) { radio.focus(); }
      setStatus(missing.length + " report(s) are not fully rated yet (all criteria are required); the first is highlighted. " +
        "Tick \u201csave incomplete\u201d to save a draft.", true);
      return;
    }
    var savedAt = new Date().toISOString();
    var kept = rows;
    var stem = "ratings-" + reader + "-" + packet.slice(0, 8) + (missing.length ? "-draft" : "");
    if (kind === "json") {
      var doc = { format: "radeval-reader-study-ratings", version: 1, packet_sha256: packet, reader: reader,
        saved_at: savedAt, complete: missing.length === 0, ratings: kept };
      download(stem + ".json", "application/json", JSON.stringify(doc, null, 1));
    } else {
      download(stem + ".csv", "text/csv", toCsv(kept, savedAt));
    }
    setStatus("Saved " + done + " complete rating(s)" + (missing.length ? " and a draft of the rest" : "") + " as " + kind.toUpperCase() + ".", false);
  }

  form.addEventListener("change", persist);
  form.addEventListener("input", function (ev) { if (ev.target.tagName === "TEXTAREA") { persist(); } });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  document.getElementById("save-csv").addEventListener("click", function () { save("csv"); });
  document.getElementById("save-json").addEventListener("click", function () { save("json"); });
  restore();
  updateProgress(collect());
}());
