// After a refused form, bring the first mistake into view: on a phone the field in error is
// often far below the top of the page.
document.addEventListener("DOMContentLoaded", () => {
  const invalid = document.querySelector(".is-invalid, .invalid-feedback.d-block");
  if (!invalid) return;
  invalid.scrollIntoView({ block: "center" });
  const input = invalid.matches("input, select, textarea") ? invalid : null;
  if (input) input.focus({ preventScroll: true });
});
