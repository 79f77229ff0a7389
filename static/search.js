// The search box's behaviour, loaded by site.js when the box is first focused. The index is a script
// file too (window.SEARCH_INDEX), so search works from file:// as well.
(function () {
  "use strict";
  var html = document.documentElement;
  var root = html.dataset.root || "./";
  var bundle = html.dataset.bundle === "yes";

  function codeUrl(number) { return root + number + "/" + (bundle ? "index.html" : ""); }

  var box = document.querySelector(".search");
  var input = document.getElementById("search-input");
  var list = document.getElementById("search-results");
  var results = [];
  var active = -1;
  var loading = null;

  function loadIndex() {
    if (window.SEARCH_INDEX) return Promise.resolve(window.SEARCH_INDEX);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = input.dataset.index;
        script.onload = function () { resolve(window.SEARCH_INDEX || []); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function score(record, query, terms) {
    var number = String(record.c);
    if (/^\d+$/.test(query)) {
      if (number === query) return 1000;
      return number.indexOf(query) === 0 ? 500 - record.c / 1000 : 0;
    }
    var phrase = record.p.toLowerCase();
    if (phrase === query) return 900;
    if (phrase.indexOf(query) === 0) return 800;
    if (phrase.indexOf(query) >= 0) return 700;
    var aliases = record.a.join(" | ").toLowerCase();
    if (aliases.indexOf(query) >= 0) return 600;
    var constants = record.k.join(" | ").toLowerCase();
    if (constants.indexOf(query) >= 0) return 550;
    var origin = record.o.toLowerCase();
    if (origin.indexOf(query) >= 0) return 500;
    var haystack = [number, phrase, aliases, constants, origin, record.t.toLowerCase()].join(" ");
    for (var i = 0; i < terms.length; i++) if (haystack.indexOf(terms[i]) < 0) return 0;
    return 100;
  }

  function hint(record, query) {
    var alias = record.a.filter(function (a) { return a.toLowerCase().indexOf(query) >= 0; })[0];
    if (alias) return "also “" + alias + "”";
    var constant = record.k.filter(function (k) { return k.toLowerCase().indexOf(query) >= 0; })[0];
    if (constant) return constant;
    if (record.o && record.o.toLowerCase().indexOf(query) >= 0) return "from " + record.o;
    return record.s;
  }

  function render(query) {
    list.textContent = "";
    active = results.length ? 0 : -1;
    results.forEach(function (record, i) {
      var item = document.createElement("li");
      item.id = "search-result-" + i;
      // An option holds no link: ARIA forbids interactive content inside options.
      item.setAttribute("role", "option");
      item.addEventListener("click", function () { window.location.href = codeUrl(record.c); });
      var num = document.createElement("span");
      num.className = "num";
      num.textContent = record.c;
      var more = document.createElement("span");
      more.className = "hint";
      more.textContent = hint(record, query);
      item.append(num, record.p, more);
      list.appendChild(item);
    });
    if (!results.length) {
      var empty = document.createElement("li");
      empty.className = "empty";
      empty.setAttribute("role", "option");
      empty.setAttribute("aria-disabled", "true");
      empty.textContent = "No code matches “" + query + "”";
      list.appendChild(empty);
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    mark();
  }

  function mark() {
    Array.prototype.forEach.call(list.querySelectorAll("[role=option]"), function (item, i) {
      item.setAttribute("aria-selected", String(i === active));
      if (i === active) item.scrollIntoView({ block: "nearest" });
    });
    if (active >= 0) input.setAttribute("aria-activedescendant", "search-result-" + active);
    else input.removeAttribute("aria-activedescendant");
  }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function search() {
    var query = input.value.trim().toLowerCase();
    if (!query) { results = []; close(); return; }
    loadIndex().then(function (index) {
      if (input.value.trim().toLowerCase() !== query) return;
      var terms = query.split(/\s+/);
      results = index
        .map(function (record) { return { record: record, score: score(record, query, terms) }; })
        .filter(function (hit) { return hit.score > 0; })
        .sort(function (a, b) { return b.score - a.score || a.record.c - b.record.c; })
        .slice(0, 12)
        .map(function (hit) { return hit.record; });
      render(query);
    });
  }

  input.addEventListener("input", search);
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!results.length) return;
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + results.length) % results.length;
      mark();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (active >= 0 && results[active]) window.location.href = codeUrl(results[active].c);
    } else if (event.key === "Escape") {
      input.value = "";
      results = [];
      close();
    }
  });
  document.addEventListener("click", function (event) { if (!box.contains(event.target)) close(); });
  loadIndex();
  search();  // what was typed while this script loaded
})();
