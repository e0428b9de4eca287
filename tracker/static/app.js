// Progressive enhancement only: every form works without it. No alert/confirm (WeChat).
(function () {
  document.documentElement.classList.add("js");
  // On a narrow screen the nav scrolls sideways: bring the current page's link into view.
  var current = document.querySelector("header nav [aria-current]");
  if (current) {
    var nav = current.parentElement;
    var right = current.offsetLeft + current.offsetWidth - nav.offsetLeft;
    if (right > nav.clientWidth) nav.scrollLeft = right - nav.clientWidth + 8;
  }
  // A unit search field (past a few hundred units): offer the trails of the units that match
  // what has been typed. Typing a unit's name works without this too.
  document.querySelectorAll("input[data-lookup]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (!q || q === asked) return;
        asked = q;
        var url = input.dataset.lookup + (input.dataset.lookup.indexOf("?") < 0 ? "?" : "&") +
          "q=" + encodeURIComponent(q);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { units: [] }; })
          .then(function (data) {
            if (input.value.trim() !== q) return; // typed on meanwhile
            list.replaceChildren.apply(list, data.units.map(function (u) {
              var option = document.createElement("option");
              option.value = u.label;
              return option;
            }));
          })
          .catch(function () {});
      }, 150);
    });
  });

  var form = document.querySelector("form.report");
  if (!form) return;
  var radios = form.querySelectorAll("input[name=mode]");
  var sections = form.querySelectorAll(".mode");
  function show() {
    var mode = form.querySelector("input[name=mode]:checked");
    sections.forEach(function (s) { s.hidden = !!mode && s.dataset.mode !== mode.value; });
  }
  radios.forEach(function (r) { r.addEventListener("change", show); });
  show();

  var out = document.getElementById("running-total");
  function sum() {
    var total = 0;
    form.querySelectorAll("input.item").forEach(function (i) {
      var n = parseInt(i.value, 10);
      if (!isNaN(n) && !i.disabled) total += n;
    });
    if (out) {
      out.textContent = total;
      out.classList.toggle("over", total > parseInt(out.dataset.max, 10));
    }
  }
  form.querySelectorAll("input.item").forEach(function (i) { i.addEventListener("input", sum); });
  sum();

  // 总积分: show the day's points it implies as the member types.
  var cumulative = document.getElementById("cumulative");
  var preview = document.getElementById("cum-preview");
  if (cumulative && preview && cumulative.dataset.previous) {
    var update = function () {
      var n = parseInt(cumulative.value, 10);
      var prev = parseInt(cumulative.dataset.previous, 10);
      preview.textContent = isNaN(n) ? "" : "，折合今日积分 " + (n - prev);
    };
    cumulative.addEventListener("input", update);
    update();
  }

  // After a rejected save, bring the first field to fix into view.
  var invalid = form.querySelector("[aria-invalid=true]");
  if (invalid) {
    var mode = invalid.closest(".mode");
    if (mode) {
      var radio = form.querySelector("input[name=mode][value=" + mode.dataset.mode + "]");
      if (radio) { radio.checked = true; show(); }
    }
    invalid.focus();
  }
})();
