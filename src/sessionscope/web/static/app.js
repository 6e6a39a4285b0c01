// sessionscope dashboard: small progressive enhancements. Every page works without this script.
(function () {
  "use strict";

  function catalog() {
    var node = document.getElementById("catalog");
    return node ? JSON.parse(node.textContent) : null;
  }

  function setupRow(row, cat) {
    var attr = row.querySelector('[data-role="attr"]');
    var op = row.querySelector('[data-role="op"]');
    var prop = row.querySelector('[data-role="prop"]');
    var val = row.querySelector('[data-role="val"]');
    var val2 = row.querySelector('[data-role="val2"]');

    function syncValue() {
      var info = cat.operators[op.value] || {};
      val.placeholder = info.value === "date_range" ? "from: YYYY-MM-DD[THH:MM:SSZ]" : (info.hint || "value");
      val2.hidden = info.value !== "date_range";
      var a = cat.attributes[attr.value];
      if (a && a.type === "Bool String" && info.value === "scalar") val.placeholder = "true or false";
    }

    function syncOperators() {
      var a = cat.attributes[attr.value];
      if (!a) return;
      var current = op.value;
      op.textContent = "";
      a.operators.forEach(function (name) {
        var o = document.createElement("option");
        o.value = name;
        o.textContent = (cat.operators[name] || {}).label || name;
        if (name === current) o.selected = true;
        op.appendChild(o);
      });
      prop.hidden = !a.property;
      if (!a.property) prop.value = "";
      syncValue();
    }

    // event_name's property condition (from a dashboard link) belongs to that attribute alone
    var extra = row.querySelector('[data-role="extra"]');
    var extraChip = row.querySelector('[data-role="extra-chip"]');
    function dropCondition() {
      if (extra) extra.value = "";
      if (extraChip) { extraChip.remove(); extraChip = null; }
    }
    if (extraChip) {
      extraChip.querySelector('[data-action="remove-condition"]').addEventListener("click", function () {
        dropCondition();
        op.focus();
      });
    }

    attr.addEventListener("change", function () {
      if (attr.value !== "event_name") dropCondition();
      syncOperators();
    });
    op.addEventListener("change", syncValue);
    row.querySelector('[data-action="remove-filter"]').addEventListener("click", function () {
      // keyboard users keep their place: the next row's attribute, else the previous one's, else "Add filter"
      var next = row.nextElementSibling || row.previousElementSibling;
      var form = row.closest("form");
      var list = row.parentElement;
      row.remove();
      renumber(list);
      var target = next ? next.querySelector('[data-role="attr"]') : form && form.querySelector('[data-action="add-filter"]');
      if (target) target.focus();
    });
    if (!op.options.length) syncOperators();
  }

  // each row's hidden labels say which filter they belong to ("Filter 2 operator"), as rows come and go
  function renumber(list) {
    list.querySelectorAll("[data-row]").forEach(function (row, k) {
      row.querySelectorAll("label[data-name]").forEach(function (label) {
        label.textContent = "Filter " + (k + 1) + " " + label.dataset.name;
      });
      var remove = row.querySelector('[data-name="remove"]');
      if (remove) remove.setAttribute("aria-label", "Remove filter " + (k + 1));
    });
  }

  function setupFilters() {
    var form = document.querySelector("[data-filters]");
    var cat = catalog();
    if (!form || !cat) return;
    var list = form.querySelector("#filter-rows");
    var template = form.querySelector("#filter-row-template");
    var counter = 0;
    list.querySelectorAll("[data-row]").forEach(function (row) { setupRow(row, cat); });
    form.querySelector('[data-action="add-filter"]').addEventListener("click", function () {
      var fragment = template.content.cloneNode(true);
      var id = "n" + (counter++);
      fragment.querySelectorAll("[id]").forEach(function (el) { el.id = el.id.replace(/new$/, id); });
      fragment.querySelectorAll("label[for]").forEach(function (el) { el.htmlFor = el.htmlFor.replace(/new$/, id); });
      var row = fragment.querySelector("[data-row]");
      list.appendChild(fragment);
      renumber(list);
      setupRow(row, cat);
      var note = form.querySelector("[data-no-filters]");
      if (note) note.hidden = true;
      row.querySelector('[data-role="attr"]').focus();
    });
    var groups = form.querySelectorAll('[data-role="group"]');
    var size = form.querySelector('[data-role="group-size"]');
    groups.forEach(function (select) {
      var input = document.getElementById(select.id + "p");
      select.addEventListener("change", function () {
        var option = select.options[select.selectedIndex];
        input.hidden = !(option && option.dataset.property);
        if (input.hidden) input.value = "";
        // "Groups kept" only for a grouping that is not a time series (which keeps every bucket)
        if (size) size.hidden = !Array.prototype.some.call(groups, function (g) {
          var o = g.options[g.selectedIndex];
          return o && o.value && !o.dataset.bucket;
        });
      });
    });
  }

  function setupSeek() {
    var video = document.getElementById("replay");
    if (!video) return;
    document.querySelectorAll("[data-seek]").forEach(function (button) {
      button.addEventListener("click", function () {
        var t = parseFloat(button.dataset.seek);
        if (isFinite(video.duration)) t = Math.min(t, video.duration);
        video.currentTime = t;
        var played = video.play();
        if (played && played.catch) played.catch(function () {});
        video.scrollIntoView({ block: "nearest", behavior: "smooth" });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupFilters();
    setupSeek();
  });
})();
