// The console's forms, improved where scripts run; every form works without this file.
// - ID numbers (居民身份证号码, GB 11643) are checked as they are typed; the server checks again.
// - Rows of members and incomes are added and removed in the page instead of a round trip.
(function () {
  "use strict";

  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";

  function idProblem(value) {
    if (!/^\d{17}[\dX]$/.test(value)) {
      return "身份证号须为18位：前17位是数字，末位是数字或X";
    }
    var y = +value.slice(6, 10), m = +value.slice(10, 12), d = +value.slice(12, 14);
    var born = new Date(y, m - 1, d);
    if (born.getFullYear() !== y || born.getMonth() !== m - 1 || born.getDate() !== d || y < 1900) {
      return "身份证号中的出生日期不存在";
    }
    if (born > new Date()) {
      return "身份证号中的出生日期晚于今天";
    }
    var sum = 0;
    for (var i = 0; i < 17; i++) {
      sum += (+value.charAt(i)) * WEIGHTS[i];
    }
    if (CHECK.charAt(sum % 11) !== value.charAt(17)) {
      return "身份证号校验位有误，请核对";
    }
    return "";
  }

  function showIdProblem(input, final) {
    var value = input.value.trim().toUpperCase();
    var box = input.parentNode.querySelector("[data-js-error]");
    var problem = "";
    if (value && (final || value.length >= 18)) {
      problem = idProblem(value);
    } else if (value && !/^\d{0,17}[\dX]?$/.test(value)) {
      problem = "身份证号只能是数字，末位可以是X";
    }
    if (!box) {
      box = document.createElement("p");
      box.className = "error";
      box.setAttribute("data-js-error", "");
      box.setAttribute("aria-live", "polite");
      box.id = input.id + "-check";
      input.parentNode.appendChild(box);
    }
    box.textContent = problem;
    box.hidden = !problem;
    if (problem) {
      input.setAttribute("aria-invalid", "true");
    } else if (!input.parentNode.querySelector(".error:not([data-js-error])")) {
      input.removeAttribute("aria-invalid");
    }
  }

  function renumber(container) {
    var rows = container.querySelectorAll("[data-row]");
    for (var i = 0; i < rows.length; i++) {
      var n = rows[i].querySelector("[data-row-number]");
      if (n) { n.textContent = String(i + 1); }
    }
  }

  function rowIndex(row, list) {
    var named = row.querySelector("[name^='" + list + ".']");
    return named ? +named.name.split(".")[1] : 0;
  }

  function addRow(list) {
    var container = document.querySelector("[data-rows='" + list + "']");
    var rows = container ? container.querySelectorAll("[data-row]") : [];
    if (!rows.length) { return false; }
    var last = rows[rows.length - 1];
    var top = 0;
    for (var i = 0; i < rows.length; i++) { top = Math.max(top, rowIndex(rows[i], list)); }
    var from = rowIndex(last, list), to = top + 1;
    var copy = last.cloneNode(true);
    var dotted = new RegExp("^" + list + "\\." + from + "\\.");
    var dashed = new RegExp("^f-" + list + "-" + from + "-");
    var each = copy.querySelectorAll("[name], [id], [for], [aria-describedby], button[value]");
    for (var j = 0; j < each.length; j++) {
      var el = each[j];
      if (el.name) { el.name = el.name.replace(dotted, list + "." + to + "."); }
      if (el.id) { el.id = el.id.replace(dashed, "f-" + list + "-" + to + "-"); }
      var f = el.getAttribute("for");
      if (f) { el.setAttribute("for", f.replace(dashed, "f-" + list + "-" + to + "-")); }
      el.removeAttribute("aria-describedby");
      el.removeAttribute("aria-invalid");
      if (el.tagName === "BUTTON") { el.value = "remove:" + list + "." + to; }
      else if (el.type === "checkbox" || el.type === "radio") { el.checked = false; }
      else if (el.tagName === "SELECT") { el.selectedIndex = 0; }
      else if ("value" in el) { el.value = ""; }
    }
    var stale = copy.querySelectorAll(".error");
    for (var k = 0; k < stale.length; k++) { stale[k].parentNode.removeChild(stale[k]); }
    var invalid = copy.querySelectorAll(".invalid");
    for (var q = 0; q < invalid.length; q++) { invalid[q].classList.remove("invalid"); }
    container.appendChild(copy);
    renumber(container);
    var first = copy.querySelector("input, select");
    if (first) { first.focus(); }
    return true;
  }

  function removeRow(button) {
    var row = button.closest("[data-row]");
    var container = row && row.parentNode;
    if (!row || !container) { return false; }
    if (container.querySelectorAll("[data-row]").length > 1) {
      container.removeChild(row);
    } else {
      // The last row stays, emptied: the server drops a blank row.
      var fields = row.querySelectorAll("input, select, textarea");
      for (var i = 0; i < fields.length; i++) {
        if (fields[i].type === "checkbox") { fields[i].checked = false; }
        else if (fields[i].tagName === "SELECT") { fields[i].selectedIndex = 0; }
        else { fields[i].value = ""; }
      }
    }
    renumber(container);
    return true;
  }

  document.addEventListener("input", function (event) {
    var t = event.target;
    if (t.matches && t.matches("[data-id-number]")) { showIdProblem(t, false); }
  });
  document.addEventListener("focusout", function (event) {
    var t = event.target;
    if (t.matches && t.matches("[data-id-number]")) { showIdProblem(t, true); }
  });
  document.addEventListener("click", function (event) {
    var t = event.target.closest ? event.target.closest("button") : null;
    if (!t) { return; }
    if (t.hasAttribute("data-add-row") && addRow(t.getAttribute("data-add-row"))) {
      event.preventDefault();
    } else if (t.hasAttribute("data-remove-row") && removeRow(t)) {
      event.preventDefault();
    }
  });
  // One submit per page: a second click while the first is on its way does nothing here
  // (and if it got through, the form's request ID makes the server act once).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
    var by = event.submitter;
    if (!by || !by.name || by.name !== "op") { form.setAttribute("data-sent", "1"); }
  });
  // A page shown again with the back button is a page to send again (the request ID keeps
  // a repeat from acting twice).
  window.addEventListener("pageshow", function () {
    var sent = document.querySelectorAll("form[data-sent]");
    for (var i = 0; i < sent.length; i++) { sent[i].removeAttribute("data-sent"); }
  });
})();
