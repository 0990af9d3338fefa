// What the pages do in the browser beyond htmx, from our own file: the Content-Security-Policy
// runs no inline script or handler.
"use strict";

// A button marked data-print prints the page (the minutes of a meeting).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// A coverage cell saved through htmx is shaded when it covers the need at all.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt.closest && event.detail.elt.closest("form[data-coverage-cell]");
  if (form && event.detail.successful) {
    form.closest("td").classList.toggle("covered", form.elements.degree.value !== "0");
  }
});

// A read-only field meant to be copied (a calendar address) selects itself when focused: an
// inline onfocus would need the CSP to allow inline handlers.
document.addEventListener("focusin", (event) => {
  if (event.target.matches?.("input[data-select-on-focus]")) event.target.select();
});

// On a phone the navigation folds behind the "Menu" button in the header bar.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-nav-toggle]");
  if (!toggle) return;
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  toggle.closest(".topbar").classList.toggle("nav-open", open);
});
