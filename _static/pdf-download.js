// The whole book as one PDF. `make pdf` copies it beside the HTML pages as book.pdf; when it is
// there, the download button of every page offers it below the page's own files. (Jupyter
// Book's download button has no setting for this; Jupyter Book loads every _static/*.js.)
document.addEventListener("DOMContentLoaded", () => {
  const menu = document.querySelector(".dropdown-download-buttons .dropdown-menu");
  const root = document.documentElement.dataset.content_root;
  if (!menu || root === undefined || location.protocol === "file:") return;
  const url = root + "book.pdf";
  fetch(url, { method: "HEAD" })
    .then((response) => {
      if (!response.ok) return;
      const item = document.createElement("li");
      item.innerHTML =
        `<a href="${url}" download class="btn btn-sm btn-download-book-button dropdown-item"` +
        ` title="Download the whole book as a PDF" data-bs-placement="left">` +
        `<span class="btn__icon-container"><i class="fas fa-book"></i></span>` +
        `<span class="btn__text-container">book .pdf</span></a>`;
      menu.appendChild(item);
    })
    .catch(() => {});
});
