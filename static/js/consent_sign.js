// Drawn signature on the consent page: the canvas is sized to its box (phones, tablets) and its
// PNG goes into the hidden "signature" field on submit.
(function () {
  const canvas = document.getElementById("signature-pad");
  if (!canvas) return;
  const form = document.getElementById("consent-form");
  const field = form.querySelector("input[name=signature]");
  const pad = new SignaturePad(canvas, { penColor: "#111" });

  function resize() {
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    const data = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(data);
  }
  window.addEventListener("resize", resize);
  resize();

  document.getElementById("signature-clear").addEventListener("click", () => pad.clear());
  form.addEventListener("submit", () => {
    field.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
  });
})();
