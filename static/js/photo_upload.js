// Photo upload page: drop files onto the area (they join those chosen with the button), list
// what will be sent with a small preview, and show that the upload is under way.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("[data-photo-upload]");
  if (!form) return;
  const zone = form.querySelector("[data-dropzone]");
  const inputs = [...form.querySelectorAll("[data-photo-input]")];
  const chooser = inputs.find((input) => input.multiple);
  const list = form.querySelector("[data-photo-list]");
  const canMerge = typeof DataTransfer === "function";

  const sizeLabel = (bytes) =>
    bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;

  function render() {
    list.replaceChildren();
    for (const input of inputs) {
      for (const file of input.files) {
        const item = document.createElement("li");
        item.className = "d-flex align-items-center gap-2 mb-1";
        const img = document.createElement("img");
        img.alt = "";
        img.width = img.height = 40;
        img.className = "rounded object-fit-cover bg-light";
        img.src = URL.createObjectURL(file);
        img.onload = img.onerror = () => URL.revokeObjectURL(img.src);
        const text = document.createElement("span");
        text.textContent = `${file.name} (${sizeLabel(file.size)})`;
        item.append(img, text);
        list.append(item);
      }
    }
  }

  inputs.forEach((input) => input.addEventListener("change", render));

  if (zone && chooser && canMerge) {
    ["dragenter", "dragover"].forEach((type) =>
      zone.addEventListener(type, (event) => {
        event.preventDefault();
        zone.classList.add("photo-dropzone-active");
      }),
    );
    ["dragleave", "drop"].forEach((type) =>
      zone.addEventListener(type, () => zone.classList.remove("photo-dropzone-active")),
    );
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      const merged = new DataTransfer();
      for (const file of chooser.files) merged.items.add(file);
      for (const file of event.dataTransfer.files) merged.items.add(file);
      chooser.files = merged.files;
      render();
    });
  }

  form.addEventListener("submit", () => {
    const button = form.querySelector("[data-photo-submit]");
    const progress = form.querySelector("[data-photo-progress]");
    if (button) button.disabled = true;
    if (progress) progress.classList.remove("d-none");
  });
});
