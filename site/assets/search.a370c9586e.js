// The search box's behaviour, loaded by site.js when the box is first focused. The index is a script
// file too (window.SEARCH_INDEX), so search works from file:// as well.
(function () {
  "use strict";
  var html = document.documentElement;
  var root = html.dataset.root || "./";
  var bundle = html.dataset.bundle === "yes";

  function pageUrl(record) { return root + record.u + (bundle ? "index.html" : ""); }
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

  // One spelling for British and American forms, so "unauthorised" finds "Unauthorized".
  function fold(word) {
    return word.replace(/is(e|ed|es|ing|ation|ations)$/, "iz$1").replace(/our(s?)$/, "or$1").replace(/tre$/, "ter");
  }

  function words(text) { return (text.toLowerCase().match(/[a-z0-9][a-z0-9-]*/g) || []).map(fold); }

  // Words of each field, worked out once per record; the weights rank a match in the name above one in the text.
  var FIELDS = [["p", 10], ["a", 7], ["h", 6], ["k", 6], ["m", 4], ["o", 3], ["t", 2]];
  function fieldWords(record) {
    if (!record.w) {
      record.w = FIELDS.map(function (field) {
        var value = record[field[0]];
        var text = Array.isArray(value) ? value.join(" ") : value || "";
        var list = words(text);
        text.toLowerCase().split(/[^a-z0-9-]+/).forEach(function (w) { if (w.indexOf("-") > 0) list = list.concat(w.split("-")); });
        return list;
      });
    }
    return record.w;
  }

  // One edit (insert, delete, replace, or swap two letters) turns a into b: a light typo ("forbiden").
  function oneEdit(a, b) {
    if (Math.abs(a.length - b.length) > 1 || a === b) return false;
    var i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    if (a.length === b.length) {
      return a.slice(i + 1) === b.slice(i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2));
    }
    return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
  }

  // How well one query word matches a word of the record: whole, as its start, or with one typo (5+ letters).
  function quality(term, word) {
    if (word === term) return 1;
    if (term.length >= 3 && word.indexOf(term) === 0) return 0.8;
    if (term.length >= 5 && oneEdit(term, word)) return 0.6;
    return 0;
  }

  function score(record, query, terms) {
    if (/^\d+$/.test(query)) {
      if (record.c === undefined) return 0;
      var number = String(record.c);
      if (number === query) return 1000;
      return number.indexOf(query) === 0 ? 500 - record.c / 1000 : 0;
    }
    var fields = fieldWords(record);
    var total = 0;
    for (var t = 0; t < terms.length; t++) {  // every word of the query, in any order
      var best = 0;
      for (var f = 0; f < FIELDS.length; f++) {
        for (var w = 0; w < fields[f].length; w++) {
          var found = quality(terms[t], fields[f][w]) * FIELDS[f][1];
          if (found > best) best = found;
        }
      }
      if (!best) return 0;
      total += best;
    }
    var phrase = record.p.toLowerCase();
    if (phrase === query) total += 100;
    else if (phrase.indexOf(query) === 0) total += 50;
    else if (phrase.indexOf(query) >= 0) total += 30;
    if (record.k.join(" ").toLowerCase().indexOf(query) >= 0) total += 25;  // a constant, typed as written
    return total;
  }

  function rank(record) { return record.s === "standard" ? 0 : 1; }

  function hint(record, query) {
    if (record.x) return record.m;
    var alias = record.a.filter(function (a) { return a.toLowerCase().indexOf(query) >= 0; })[0];
    if (alias) return "also “" + alias + "”";
    var constant = record.k.filter(function (k) { return k.toLowerCase().indexOf(query) >= 0; })[0];
    if (constant) return constant;
    var header = record.h.filter(function (h) { return h.toLowerCase() === query; })[0];
    if (header) return "header field " + header;
    if (record.o && record.o.toLowerCase().indexOf(query) >= 0) return "from " + record.o;
    return record.s;
  }

  function render(query) {
    list.textContent = "";
    active = results.length ? 0 : -1;
    results.forEach(function (record, i) {
      // A real link, so a result opens in a new tab too; as the option itself it holds no other control.
      var item = document.createElement("li");
      item.setAttribute("role", "none");
      var link = document.createElement("a");
      link.id = "search-result-" + i;
      link.href = pageUrl(record);
      link.tabIndex = -1;
      link.setAttribute("role", "option");
      var num = document.createElement("span");
      num.className = record.x ? "kind" : "num";
      num.textContent = record.x || record.c;
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = record.p;
      var more = document.createElement("span");
      more.className = "hint";
      more.textContent = hint(record, query);
      link.append(num, name, more);
      if (!record.x && record.m) {
        var summary = document.createElement("span");
        summary.className = "summary";
        summary.textContent = record.m;
        link.appendChild(summary);
      }
      item.appendChild(link);
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
      var terms = words(query);
      if (!terms.length) { results = []; render(query); return; }
      results = index
        .map(function (record) { return { record: record, score: score(record, query, terms) }; })
        .filter(function (hit) { return hit.score > 0; })
        // At an equal match a standard code comes before a deprecated or unofficial one, codes before pages.
        .sort(function (a, b) {
          return b.score - a.score || rank(a.record) - rank(b.record) || (a.record.c || 1000) - (b.record.c || 1000);
        })
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
      if (active >= 0 && results[active]) window.location.href = pageUrl(results[active]);
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
