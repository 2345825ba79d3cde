// Compare: two images of the same case side by side, by default the one on screen and its
// counterpart in another visit (lesion follow-up is why visits exist). Zoom and pan are kept in
// step: the same percentage of original pixels and the same point (as a fraction of each image)
// at the centre, so two photos from one camera line up. Each side is a full viewer: wheel, drag,
// and photos load their full-resolution picture past the screen rendition.

import { Viewer } from "./viewer.js";

export class CompareView {
  // elements: {dialog, title, close, sides: [{select, stage, message}, ...]} (main.js);
  // visits: a CaseVisits; detail: a PhotoDetail; maxSide: the screen rendition size.
  constructor({ dialog, title, close, sides }, visits, { detail, maxSide, onError }) {
    this.dialog = dialog;
    this.title = title;
    this.visits = visits;
    this.maxSide = maxSide;
    this.onError = onError;
    this.images = [];
    this.syncing = false;
    this.linked = true;
    this.sides = sides.map((el) => {
      const viewer = new Viewer(el.stage, el.stage, el.message, { detail });
      const side = { ...el, viewer, shown: null };
      el.select.addEventListener("change", () => this.show(side, Number(el.select.value)));
      viewer.onChange(() => this.follow(side));
      return side;
    });
    close.addEventListener("click", () => dialog.close());
    dialog.addEventListener("keydown", (event) => this.onKey(event));
  }

  get isOpen() {
    return this.dialog.open;
  }

  async open(view) {
    let found;
    try {
      found = await this.visits.of(view);
    } catch (e) {
      this.onError(`Cannot compare: ${e.message}`);
      return;
    }
    this.images = found.visits.flatMap((v) => v.images.map((image) => ({ ...image, visit: v.visit })));
    const here = this.images.find((i) => i.id === view.id) ?? this.images[0];
    const other = counterpart(found.visits, here);
    this.title.textContent = `Compare visits: ${found.case}`;
    for (const side of this.sides) fillSelect(side.select, found.visits);
    this.dialog.showModal();
    this.show(this.sides[0], here.id);
    this.show(this.sides[1], (other ?? here).id);
    if (!other) this.title.textContent += " (one visit only)";
    this.sides[0].select.focus();
  }

  show(side, id) {
    const image = this.images.find((i) => i.id === id);
    if (!image) return;
    side.select.value = String(id);
    side.shown = image;
    side.viewer.showMessage("Loading…");
    const img = new Image();
    img.decoding = "async";
    if (image.kind === "raster") img.dataset.photoId = String(id);
    img.src = `/api/images/${id}/rendition?max_side=${this.maxSide}`;
    img.decode().then(
      () => {
        if (side.shown !== image) return;
        side.viewer.setImage(img, `${image.visit}: ${image.file}`);
        // The new image takes the other side's zoom and pan.
        const other = this.sides.find((s) => s !== side);
        if (other.viewer.img && !other.viewer.fitted) this.follow(other);
      },
      () => side.shown === image && side.viewer.showMessage(`${image.file} cannot be shown.`),
    );
  }

  // One side moved: the other takes the same zoom and centre point.
  follow(side) {
    if (this.syncing || !this.linked || !side.viewer.img) return;
    const other = this.sides.find((s) => s !== side);
    if (!other.viewer.img) return;
    this.syncing = true;
    try {
      if (side.viewer.fitted) other.viewer.fit();
      else other.viewer.setView(side.viewer.view());
    } finally {
      this.syncing = false;
    }
  }

  onKey(event) {
    if (event.target instanceof HTMLSelectElement) return;
    const viewer = this.sides[0].viewer;
    const actions = {
      "+": () => viewer.zoomBy(1.25),
      "=": () => viewer.zoomBy(1.25),
      "-": () => viewer.zoomBy(0.8),
      "0": () => viewer.fit(),
      a: () => viewer.actualSize(),
      A: () => viewer.actualSize(),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  }
}

// The image of another visit that matches `here`: the same file name, else the same place in
// its visit; the next visit first (follow-up), else the one before.
function counterpart(visits, here) {
  const at = visits.findIndex((v) => v.visit === here.visit);
  const index = visits[at].images.findIndex((i) => i.id === here.id);
  const order = [...visits.slice(at + 1), ...visits.slice(0, at).reverse()];
  for (const visit of order) {
    const same = visit.images.find((i) => i.file === here.file);
    const found = same ?? visit.images[Math.min(index, visit.images.length - 1)];
    if (found) return { ...found, visit: visit.visit };
  }
  return null;
}

function fillSelect(select, visits) {
  select.replaceChildren(
    ...visits.map((v) => {
      const group = document.createElement("optgroup");
      group.label = v.visit;
      group.append(
        ...v.images.map((image) => {
          const option = document.createElement("option");
          option.value = String(image.id);
          option.textContent = `${v.visit} / ${image.file}`;
          return option;
        }),
      );
      return group;
    }),
  );
}
