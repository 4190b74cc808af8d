// Progressive enhancement: without this file the form is a plain GET and everything works.
// With it, the monster changes in place, without a page reload.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("form"), nameInput = $("name"), size = $("size"), img = $("monster");
  const url = $("url"), download = $("download"), svg = $("svg"), status = $("status");
  if (!form || !img) return;

  const slug = (name) => (name.trim().replace(/[^\p{L}\p{N}_-]+/gu, "-").slice(0, 60) || "monster");
  // Always with the format's suffix: it keeps a name ending in ".svg" whole, and a name "."
  // or ".." from being a dot segment that the browser resolves away.
  const imageUrl = (name, px, ext) => `/monster/${encodeURIComponent(name)}.${ext}?size=${px}`;

  function show(name, px) {
    const src = imageUrl(name, px, "png");
    img.classList.add("loading");
    status.textContent = "";
    status.classList.remove("error");
    img.width = px;
    img.height = px;
    img.alt = `The monster of ${name}`;
    img.src = src;
    url.value = new URL(src, location.href).href;
    download.href = src;
    download.download = `${slug(name)}.png`;
    svg.href = imageUrl(name, px, "svg");
    svg.download = `${slug(name)}.svg`;
    const page = new URL(location.href);
    page.search = new URLSearchParams({ name, size: String(px) }).toString();
    history.replaceState(null, "", page);
  }

  img.addEventListener("load", () => img.classList.remove("loading"));
  img.addEventListener("error", () => {
    img.classList.remove("loading");
    status.textContent = "The monster could not be drawn right now. Try again in a moment.";
    status.classList.add("error");
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = nameInput.value.trim() || nameInput.placeholder;
    show(name, Number(size.value));
  });
  size.addEventListener("change", () => form.requestSubmit());

  url.value = new URL(url.value, location.href).href;
  $("copy").addEventListener("click", async () => {
    url.select();
    try {
      await navigator.clipboard.writeText(url.value);
      status.textContent = "Link copied.";
    } catch {
      status.textContent = "Select the link and copy it (Ctrl+C).";
    }
  });
})();
