// Brightness, contrast and gamma for photos: display only. They set a CSS filter on the stage's
// photo (the file, its renditions and every output are untouched) and are reset for the next
// image unless pinned, so one dark photo's setting does not silently carry over to the next.
//
// Brightness b and contrast c are CSS's: v * b, then (v - 0.5) * c + 0.5; gamma g is an SVG
// transfer function on sRGB values, v ** (1 / g) (g > 1 lightens the mid-tones), applied last.

const SVG = "http://www.w3.org/2000/svg";
export const GAMMA_FILTER_ID = "photo-gamma";
const NEUTRAL = { brightness: 1, contrast: 1, gamma: 1 };
const LIMITS = { brightness: [0.2, 3], contrast: [0.2, 3], gamma: [0.2, 3] };
const STEP = { brightness: 0.1, contrast: 0.1, gamma: 0.1 };

export class PhotoAdjust {
  // elements: {tools, brightness, contrast, gamma, readouts: {brightness, contrast, gamma},
  // reset, pin} (main.js); stage: where the photo is (its filter is a CSS variable there).
  constructor(elements, stage) {
    this.el = elements;
    this.stage = stage;
    this.values = { ...NEUTRAL };
    this.pinned = false;
    this.gammaFuncs = makeGammaFilter();
    for (const name of Object.keys(NEUTRAL)) {
      const input = elements[name];
      input.min = String(LIMITS[name][0]);
      input.max = String(LIMITS[name][1]);
      input.step = "0.05";
      input.addEventListener("input", () => this.set(name, Number(input.value)));
    }
    elements.reset.addEventListener("click", () => this.reset());
    elements.pin.addEventListener("click", () => this.togglePin());
    this.render();
  }

  // Photos and colour frames have these tools; grey DICOM and NIfTI have window/level instead.
  available(on) {
    this.el.tools.hidden = !on;
  }

  set(name, value) {
    const [low, high] = LIMITS[name];
    this.values[name] = Math.round(Math.min(high, Math.max(low, value)) * 100) / 100;
    this.render();
  }

  nudge(name, direction) {
    this.set(name, this.values[name] + direction * STEP[name]);
  }

  reset() {
    this.values = { ...NEUTRAL };
    this.render();
  }

  togglePin() {
    this.pinned = !this.pinned;
    this.render();
  }

  // A new image: neutral again unless the annotator pinned the setting.
  nextImage() {
    if (!this.pinned && !this.isNeutral()) this.reset();
  }

  isNeutral() {
    return Object.entries(NEUTRAL).every(([name, value]) => this.values[name] === value);
  }

  render() {
    const { brightness, contrast, gamma } = this.values;
    for (const f of this.gammaFuncs) f.setAttribute("exponent", String(1 / gamma));
    const filter = this.isNeutral() ? "none" : `brightness(${brightness}) contrast(${contrast})${gamma === 1 ? "" : ` url(#${GAMMA_FILTER_ID})`}`;
    this.stage.style.setProperty("--photo-filter", filter);
    for (const name of Object.keys(NEUTRAL)) {
      this.el[name].value = String(this.values[name]);
      this.el.readouts[name].textContent = name === "gamma" ? this.values[name].toFixed(2) : `${Math.round(this.values[name] * 100)} %`;
    }
    this.el.pin.setAttribute("aria-pressed", String(this.pinned));
    this.el.tools.classList.toggle("is-adjusted", !this.isNeutral());
  }
}

// One hidden SVG filter in the page for gamma (CSS filters have none); sRGB values, as the
// brightness and contrast filters use, not SVG's default linear RGB.
let gammaDefs = null; // made once per page, shared by every PhotoAdjust

function makeGammaFilter() {
  let svg = gammaDefs;
  if (!svg) {
    svg = document.createElementNS(SVG, "svg");
    svg.id = `${GAMMA_FILTER_ID}-defs`;
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("width", "0");
    svg.setAttribute("height", "0");
    svg.style.position = "absolute";
    const filter = document.createElementNS(SVG, "filter");
    filter.id = GAMMA_FILTER_ID;
    filter.setAttribute("color-interpolation-filters", "sRGB");
    const transfer = document.createElementNS(SVG, "feComponentTransfer");
    for (const channel of ["R", "G", "B"]) {
      const fn = document.createElementNS(SVG, `feFunc${channel}`);
      fn.setAttribute("type", "gamma");
      fn.setAttribute("amplitude", "1");
      fn.setAttribute("offset", "0");
      fn.setAttribute("exponent", "1");
      transfer.append(fn);
    }
    filter.append(transfer);
    svg.append(filter);
    document.body.append(svg);
    gammaDefs = svg;
  }
  return [...svg.querySelectorAll("feFuncR, feFuncG, feFuncB")];
}
