// lastseen's report: filter and sort the events table (crawler/report/index.py inlines this file
// and allows it by its SHA-256 in the page's Content-Security-Policy; nothing else may run).
// It reads only what the server wrote, escaped: the rows' data-* attributes and text. It builds
// its controls with createElement and textContent, never markup from text; it hides rows (the
// hidden attribute) and reorders them; it evaluates nothing, stores nothing and loads nothing.
// With scripts off the page is complete: every row shown, and none of these controls exist.
(function () {
  "use strict";
  var table = document.getElementById("events");
  if (!table || !table.tBodies.length) {
    return;
  }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows).map(function (tr, index) {
    var tags = [];
    try {
      tags = JSON.parse(tr.getAttribute("data-tags") || "[]");
    } catch (e) {
      tags = [];
    }
    return {
      tr: tr,
      index: index,
      verdict: tr.getAttribute("data-verdict") || "",
      rank: Number(tr.getAttribute("data-rank")) || 0,
      alert: tr.hasAttribute("data-alert"),
      captured: tr.getAttribute("data-captured") || "",
      tags: Array.isArray(tags) ? tags.map(String) : [],
      target: (tr.cells[0] && tr.cells[0].firstChild ? tr.cells[0].firstChild.textContent : "").trim(),
      text: tr.textContent.toLowerCase()
    };
  });

  function make(tag, props, text) {
    var el = document.createElement(tag);
    Object.keys(props || {}).forEach(function (name) {
      el.setAttribute(name, props[name]);
    });
    if (text !== undefined) {
      el.textContent = text;
    }
    return el;
  }

  function labelled(text, control, cls) {
    var label = make("label", cls ? { "class": cls } : {});
    label.appendChild(make("span", {}, text));
    label.appendChild(control);
    return label;
  }

  function select(first, values, label) {
    var el = make("select", { "aria-label": label });
    el.appendChild(make("option", { value: "" }, first));
    values.forEach(function (v) {
      var option = make("option", {}, v[1]);
      option.value = v[0];
      el.appendChild(option);
    });
    return el;
  }

  var verdicts = [];
  var seen = {};
  rows.slice().sort(function (a, b) { return a.rank - b.rank || (a.verdict < b.verdict ? -1 : a.verdict > b.verdict ? 1 : 0); })
    .forEach(function (r) {
      if (!seen["v" + r.verdict]) {
        seen["v" + r.verdict] = true;
        verdicts.push([r.verdict, r.verdict]);
      }
    });
  var tags = [];
  rows.forEach(function (r) {
    r.tags.forEach(function (t) {
      if (!seen["t" + t]) {
        seen["t" + t] = true;
        tags.push([t, t]);
      }
    });
  });
  tags.sort(function (a, b) { return a[0].localeCompare(b[0]); });

  var search = make("input", { type: "search", placeholder: "name, URL, summary, tag", "aria-label": "Filter" });
  var verdictSelect = select("every verdict", verdicts, "Verdict");
  var tagSelect = select("every tag", tags, "Tag");
  var alertsOnly = make("input", { type: "checkbox" });
  var sortSelect = select("run order", [["target", "target"], ["verdict", "verdict"], ["captured", "captured, newest first"]],
    "Sort");
  var shown = make("span", { "class": "shown", role: "status", "aria-live": "polite" });
  var none = make("p", { "class": "muted none-match" }, "No target matches these filters.");

  var bar = make("div", { "class": "filters", role: "search" });
  bar.appendChild(labelled("Filter", search));
  bar.appendChild(labelled("Verdict", verdictSelect));
  if (tags.length) {
    bar.appendChild(labelled("Tag", tagSelect));
  }
  var alertsLabel = make("label", { "class": "check" });
  alertsLabel.appendChild(alertsOnly);
  alertsLabel.appendChild(make("span", {}, "alerts only"));
  bar.appendChild(alertsLabel);
  bar.appendChild(labelled("Sort", sortSelect, "sort"));
  bar.appendChild(shown);
  table.parentNode.insertBefore(bar, table);
  table.parentNode.insertBefore(none, table.nextSibling);

  function apply() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var verdict = verdictSelect.value;
    var tag = tagSelect.value;
    var count = 0;
    rows.forEach(function (r) {
      var ok = (!verdict || r.verdict === verdict) && (!tag || r.tags.indexOf(tag) >= 0) &&
        (!alertsOnly.checked || r.alert) && words.every(function (w) { return r.text.indexOf(w) >= 0; });
      r.tr.hidden = !ok;
      count += ok ? 1 : 0;
    });
    shown.textContent = "showing " + count + " of " + rows.length;
    none.hidden = count > 0;
  }

  var sorting = { key: "", descending: false };
  var keys = {
    target: function (a, b) { return a.target.localeCompare(b.target); },
    verdict: function (a, b) { return a.rank - b.rank || (a.verdict < b.verdict ? -1 : a.verdict > b.verdict ? 1 : 0); },
    captured: function (a, b) { return a.captured < b.captured ? -1 : a.captured > b.captured ? 1 : 0; }
  };
  var buttons = [];

  function sort(key, descending) {
    sorting = { key: key, descending: descending };
    var compare = keys[key];
    var ordered = rows.slice().sort(function (a, b) {
      var c = compare ? compare(a, b) * (descending ? -1 : 1) : 0;
      return c || a.index - b.index;
    });
    ordered.forEach(function (r) { body.appendChild(r.tr); });
    buttons.forEach(function (b) {
      var th = b.parentNode;
      if (b.getAttribute("data-key") === key) {
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
    var usual = key === "captured" ? descending : !descending; // the direction the Sort menu offers
    sortSelect.value = key && usual ? key : "";
  }

  Array.prototype.forEach.call(table.tHead ? table.tHead.rows[0].cells : [], function (th) {
    var key = th.getAttribute("data-sort");
    if (!key || !keys[key]) {
      return;
    }
    var button = make("button", { type: "button", "data-key": key }, th.textContent);
    th.textContent = "";
    th.appendChild(button);
    buttons.push(button);
    button.addEventListener("click", function () {
      sort(key, sorting.key === key ? !sorting.descending : key === "captured");
    });
  });

  search.addEventListener("input", apply);
  verdictSelect.addEventListener("change", apply);
  tagSelect.addEventListener("change", apply);
  alertsOnly.addEventListener("change", apply);
  sortSelect.addEventListener("change", function () {
    sort(sortSelect.value, sortSelect.value === "captured");
  });
  apply();
}());
