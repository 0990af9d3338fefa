// Mandate drafting: a search box narrows the long list of clients to add (a <select multiple>),
// keeping the ones already picked visible.
"use strict";

document.addEventListener("input", (event) => {
  const box = event.target;
  if (!box.matches?.("input[data-filters]")) return;
  const select = document.getElementById(box.dataset.filters);
  const words = box.value.trim().toLocaleLowerCase();
  for (const option of select.options) {
    option.hidden = words !== "" && !option.selected && !option.text.toLocaleLowerCase().includes(words);
  }
});
