// lastseen's target history page: compare two captures (written as reports/assets/history-<hash>.js and
// added by the page's one inline line, allowed by its SHA-256 with 'strict-dynamic' in the page's
// Content-Security-Policy: crawler/report/assets.py; nothing else may run).
// It reads only what the server wrote: the rows' data-* attributes and the command in #compare.
// It builds its controls with createElement and textContent, never markup from text. For the chosen
// pair it follows the link the server wrote to the change page of an event that compared exactly
// those two captures; otherwise it shows the `lastseen diff` command. It evaluates nothing, stores
// nothing and loads nothing. With scripts off the page shows the command and no control.
(function () {
  "use strict";
  var box = document.getElementById("compare");
  var table = document.getElementById("captures");
  if (!box || !table || !table.tBodies.length) {
    return;
  }
  var command = box.getAttribute("data-command") || "lastseen diff";
  var rows = Array.prototype.slice.call(table.tBodies[0].rows).map(function (tr) {
    var link = tr.querySelector("a.change");
    return {
      capture: tr.getAttribute("data-capture") || "",
      compared: tr.getAttribute("data-compared") || "",
      text: tr.getAttribute("data-text") === "1",
      label: tr.getAttribute("data-label") || "",
      link: link
    };
  });
  var choices = rows.filter(function (r) { return r.text; });
  if (choices.length < 2) {
    return;
  }

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

  function picker(label, selected) {
    var el = make("select", { "aria-label": label });
    choices.forEach(function (r, i) {
      var option = make("option", {}, r.label);
      option.value = r.capture;
      if (i === selected) {
        option.selected = true;
      }
      el.appendChild(option);
    });
    var wrap = make("label");
    wrap.appendChild(make("span", {}, label + " "));
    wrap.appendChild(el);
    return { wrap: wrap, select: el };
  }

  var from = picker("From", choices.length - 2);
  var to = picker("To", choices.length - 1);
  var go = make("button", { type: "button" }, "Compare");
  var out = make("p", { "class": "compare-out", role: "status" });
  var form = make("div", { "class": "compare-form" });
  form.appendChild(from.wrap);
  form.appendChild(to.wrap);
  form.appendChild(go);
  box.appendChild(form);
  box.appendChild(out);

  go.addEventListener("click", function () {
    var a = from.select.value;
    var b = to.select.value;
    var found = rows.filter(function (r) { return r.capture === b && r.compared === a && r.link; });
    out.textContent = "";
    if (found.length) {
      window.location.href = found[0].link.href;
      return;
    }
    out.appendChild(make("span", {}, "No change page compares these two captures; to compare them: "));
    out.appendChild(make("code", { "class": "command" }, command + " --from " + a + " --to " + b));
  });
}());
