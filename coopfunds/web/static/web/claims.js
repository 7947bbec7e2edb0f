// Drag-and-drop onto a claim's upload form: the dropped files go into the form's ordinary multiple file
// input, so the form posts them exactly as if they had been chosen with it (it works without this script).
document.addEventListener("DOMContentLoaded", () => {
  for (const zone of document.querySelectorAll("[data-dropzone]")) {
    const input = zone.querySelector('input[type="file"]');
    const list = zone.querySelector("[data-dropzone-list]");
    if (!input) continue;
    const show = () => {
      if (list) list.textContent = Array.from(input.files).map((f) => f.name).join(", ");
    };
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
    input.addEventListener("change", show);
  }
});
