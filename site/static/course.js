// The book theme's search buttons show "Search" and a shortcut but are labelled "Search" only,
// so a voice user saying what they see misses them (WCAG 2.5.3): let their text name them.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll(".search-button-field[aria-label]")) {
    button.removeAttribute("aria-label");
  }
});
