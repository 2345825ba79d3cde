// Frames of colour DICOM (RGB, YBR, palette: ultrasound, endoscopy cine): the server's 8-bit
// rendition of each frame at the image's own size (/api/images/{id}/rendition?own_size=1&frame=N,
// a lossless PNG cached on disk under a key that includes the frame; the server caps the size,
// see OWN_SIZE_LIMIT in web/config.py), so zooming in shows the file's own pixels as it does for
// grey frames. Each is decoded off the main thread into an ImageBitmap so cine only has to draw
// it. Same queue, prefetch and byte-bounded LRU as the grey frames.

import { PixelFrames } from "./pixel-frames.js";

// Decoded RGBA bitmaps are large (a 1920 x 1080 endoscopy frame is 8 MB): a smaller budget
// than grey.
const CACHE_BYTES = 128 * 1024 * 1024;

export class ColourFrames extends PixelFrames {
  constructor() {
    super({ cacheBytes: CACHE_BYTES });
    this.frameBytes = 0; // of the last frame decoded: how many fit the budget
  }

  url(id, frame) {
    return `/api/images/${id}/rendition?own_size=1&frame=${frame}`;
  }

  async decode(response) {
    const bitmap = await createImageBitmap(await response.blob());
    this.frameBytes = bitmap.width * bitmap.height * 4;
    return { frameData: { bitmap }, bytes: this.frameBytes };
  }

  // Large frames (4K endoscopy) look ahead only as far as the budget holds: frames fetched only
  // to push each other out of the cache would cost decodes and show nothing sooner.
  prefetch(id, frame, frames, plane = null, ahead = 4) {
    const fit = this.frameBytes ? Math.floor(this.cacheBytes / this.frameBytes) - 2 : ahead;
    if (fit < 1) return;
    super.prefetch(id, frame, frames, plane, Math.min(ahead, fit));
  }
}
