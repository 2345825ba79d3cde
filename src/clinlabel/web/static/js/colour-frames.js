// Frames of colour DICOM (RGB, YBR, palette: ultrasound, endoscopy cine): the server's 8-bit
// rendition of each frame (/api/images/{id}/rendition?frame=N, a lossless PNG cached on disk
// under a key that includes the frame), decoded off the main thread into an ImageBitmap so cine
// only has to draw it. Same queue, prefetch and byte-bounded LRU as the grey frames.

import { PixelFrames } from "./pixel-frames.js";

// Decoded RGBA bitmaps are large (a 1024 x 768 frame is 3 MB): a smaller budget than grey.
const CACHE_BYTES = 128 * 1024 * 1024;

export class ColourFrames extends PixelFrames {
  constructor({ maxSide }) {
    super({ cacheBytes: CACHE_BYTES });
    this.maxSide = maxSide;
  }

  url(id, frame) {
    return `/api/images/${id}/rendition?max_side=${this.maxSide}&frame=${frame}`;
  }

  async decode(response) {
    const bitmap = await createImageBitmap(await response.blob());
    return { frameData: { bitmap }, bytes: bitmap.width * bitmap.height * 4 };
  }
}
