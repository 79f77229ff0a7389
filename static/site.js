// Progressive enhancement only: every page reads and navigates without this script.
(function () {
  "use strict";
  var html = document.documentElement;

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

  // Search: its code and its index are scripts loaded on first use (so they work from file:// too and
  // cost a page nothing until someone searches); "/" focuses the box from anywhere.
  var box = document.querySelector(".search");
  var input = document.getElementById("search-input");
  if (!box || !input) return;
  box.hidden = false;
  input.addEventListener("focus", function () {
    if (document.getElementById("search-code")) return;
    var script = document.createElement("script");
    script.id = "search-code";
    script.src = input.dataset.code;
    document.head.appendChild(script);
  });
  document.addEventListener("keydown", function (event) {
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName) || event.target.isContentEditable;
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
    }
  });
})();
