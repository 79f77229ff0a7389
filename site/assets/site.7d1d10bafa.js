// Progressive enhancement only: every page reads and navigates without this script.
(function () {
  "use strict";
  var html = document.documentElement;
  var root = html.dataset.root || "./";
  var bundle = html.dataset.bundle === "yes";

  function codeUrl(number) { return root + number + "/" + (bundle ? "index.html" : ""); }

  // Theme toggle: remembers an explicit choice, otherwise follows the system.
  var toggle = document.querySelector(".theme-toggle");
  var systemDark = window.matchMedia("(prefers-color-scheme: dark)");
  function isDark() { return html.dataset.theme ? html.dataset.theme === "dark" : systemDark.matches; }
  function showTheme() { toggle.setAttribute("aria-pressed", String(isDark())); }
  if (toggle) {
    toggle.hidden = false;
    showTheme();
    systemDark.addEventListener("change", showTheme);
    toggle.addEventListener("click", function () {
      var next = isDark() ? "light" : "dark";
      html.dataset.theme = next;
      try { localStorage.setItem("theme", next); } catch (e) { /* storage may be off */ }
      showTheme();
    });
  }

  // Built without a base URL, the link box can only print the page's path; served over http(s),
  // the page knows its full address, sub-path included.
  var permalink = document.getElementById("permalink");
  var markdownLink = document.getElementById("markdown-link");
  if (permalink && permalink.textContent.charAt(0) === "/" && /^https?:$/.test(location.protocol)) {
    var path = permalink.textContent;
    var here = location.origin + location.pathname.replace(/index\.html$/, "");
    permalink.textContent = here;
    if (markdownLink) markdownLink.textContent = markdownLink.textContent.replace("(" + path + ")", "(" + here + ")");
  }

  // Copy buttons for the permalink and the Markdown link.
  document.querySelectorAll("button.copy").forEach(function (button) {
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      var text = source.textContent;
      var done = function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(source); done(); });
      } else {
        fallbackCopy(source);
        done();
      }
    });
  });
  function fallbackCopy(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try { document.execCommand("copy"); } catch (e) { /* the text stays selected */ }
  }

  // Search: the index is a script file loaded on first use, so it works from file:// as well.
  var box = document.querySelector(".search");
  var input = document.getElementById("search-input");
  var list = document.getElementById("search-results");
  if (!box || !input || !list) return;
  box.hidden = false;
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

  input.addEventListener("focus", function () { loadIndex(); });
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
  document.addEventListener("keydown", function (event) {
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName) || event.target.isContentEditable;
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
    }
  });
})();
