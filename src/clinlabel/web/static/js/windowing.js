// Window/level in the page: the DICOM grey pipeline (PS3.3 C.11) on full-depth stored values,
// as a lookup table rebuilt at each window change and one table look-up per pixel. The formulas
// are those of clinlabel/imaging/windowing.py, line for line, so that the page shows what
// `clinlabel render` writes (the e2e test checks canvas pixels against them).

const OPAQUE = 0xff000000;
const MAX_TABLE = 1 << 20; // integer ranges wider than this are windowed pixel by pixel

// VOI LUT Function LINEAR, PS3.3 C.11.2.1.2.1 (the default):
//   x <= c - 0.5 - (w-1)/2 -> 0;  x > c - 0.5 + (w-1)/2 -> 255;
//   else ((x - (c - 0.5)) / (w-1) + 0.5) * 255. A width of 1 is a threshold at c - 0.5.
export function linear(x, c, w) {
  const low = c - 0.5 - (w - 1) / 2;
  const high = c - 0.5 + (w - 1) / 2;
  if (x <= low) return 0;
  if (x > high) return 255;
  if (w === 1) return 255;
  return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
}

// VOI LUT Function LINEAR_EXACT, PS3.3 C.11.2.1.3.2: x <= c - w/2 -> 0; x > c + w/2 -> 255;
// else ((x - c) / w + 0.5) * 255.
export function linearExact(x, c, w) {
  if (x <= c - w / 2) return 0;
  if (x > c + w / 2) return 255;
  return ((x - c) / w + 0.5) * 255;
}

// VOI LUT Function SIGMOID, PS3.3 C.11.2.1.3.1: 255 / (1 + exp(-4 (x - c) / w)).
export function sigmoid(x, c, w) {
  return 255 / (1 + Math.exp((-4 * (x - c)) / w));
}

const FUNCTIONS = { LINEAR: linear, LINEAR_EXACT: linearExact, SIGMOID: sigmoid };

// NumPy's rint (round half to even), then clip to 0..255: `windowing.to_uint8`. NaN (a NaN voxel
// of a float NIfTI volume) is the lowest grey, before the Presentation inversion.
export function toUint8(y) {
  if (Number.isNaN(y)) return 0;
  let r = Math.round(y);
  if (r - y === 0.5 && r % 2 !== 0) r -= 1; // Math.round rounds halves up; rint to even
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

// A VOI LUT Sequence (C.11.2.1.1): values below the first mapped one take the first entry,
// above the last the last; output 0..2^bits-1 scaled to 0..255.
function voiLutValue(m, table, top) {
  const i = Math.min(table.data.length - 1, Math.max(0, Math.round(m - table.first_mapped)));
  return table.data[i] * (255 / top);
}

// stored value -> display grey 0..255: Modality (C.11.1: slope, intercept) -> VOI (a window or
// the file's VOI LUT) -> Presentation (MONOCHROME1 shown inverted, C.7.6.3.1.2; `invert` flips
// once more, like the Invert button of `clinlabel render`).
export function greyOf(x, header, window, invert) {
  const m = x * header.slope + header.intercept;
  let y;
  if (window) y = FUNCTIONS[window.function ?? "LINEAR"](m, window.center, window.width);
  else {
    const lut = header.voi_lut;
    const top = Math.max((1 << lut.bits) - 1, Math.max(...lut.data), 1);
    y = voiLutValue(m, lut, top);
  }
  const g = toUint8(y);
  return header.monochrome1 !== Boolean(invert) ? 255 - g : g;
}

// A frame's values painted into an RGBA buffer (as Uint32, little-endian: 0xAABBGGRR).
export function paint(out32, values, header, window, invert, range) {
  const integer = !(values instanceof Float32Array);
  const span = range.max - range.min + 1;
  if (integer && span <= MAX_TABLE) {
    const lut = new Uint32Array(span);
    for (let i = 0; i < span; i++) lut[i] = OPAQUE | (greyOf(range.min + i, header, window, invert) * 0x010101);
    const base = range.min;
    for (let i = 0, n = values.length; i < n; i++) out32[i] = lut[values[i] - base];
    return;
  }
  for (let i = 0, n = values.length; i < n; i++) out32[i] = OPAQUE | (greyOf(values[i], header, window, invert) * 0x010101);
}

// The window a file is shown with first, as `dicom_display.display_pixels` chooses it: the
// file's first window, else its VOI LUT (null here), else the frame's full range.
export function defaultWindow(header) {
  if (header.windows.length) return header.windows[0];
  if (header.voi_lut) return null;
  return header.full_range;
}

// Drag sensitivity in modality units per screen pixel: a 500-pixel drag sweeps the frame's range.
export function dragStep(header) {
  return Math.max(header.full_range.width / 500, 1e-6);
}
