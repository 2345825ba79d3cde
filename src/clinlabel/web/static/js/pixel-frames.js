// Full-depth frames and slices from /api/images/{id}/pixels: fetched lazily, the one on screen
// first, a few around it prefetched, and kept in a cache bounded in bytes. The wire format is a
// uint32 header length, a JSON header, padding to 8 bytes, then the values (clinlabel.web.pixels).

const ARRAYS = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
};
const CACHE_BYTES = 192 * 1024 * 1024;
const MAX_LOADING = 2; // leaves browser connections free for label saves and renditions

export function parseFrame(buffer) {
  const length = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
  if (header.colour) return { header, values: null };
  const start = 4 + length + ((8 - ((4 + length) % 8)) % 8);
  const Type = ARRAYS[header.dtype];
  const values = new Type(buffer, start, header.rows * header.columns);
  return { header, values, range: { min: header.min, max: header.max } };
}

export class PixelFrames {
  constructor({ cacheBytes = CACHE_BYTES } = {}) {
    this.cacheBytes = cacheBytes;
    this.entries = new Map(); // key -> {promise, bytes}
    this.bytes = 0;
    this.waiting = [];
    this.loading = 0;
  }

  url(id, frame, plane) {
    return `/api/images/${id}/pixels?frame=${frame}${plane ? `&plane=${plane}` : ""}`;
  }

  // A promise of {header, values, range}; `urgent` jumps the prefetch queue.
  get(id, frame, plane = null, { urgent = true } = {}) {
    const key = this.url(id, frame, plane);
    const known = this.entries.get(key);
    if (known) {
      this.entries.delete(key); // most recently used last
      this.entries.set(key, known);
      if (urgent && !known.started) this.promote(known);
      return known.promise;
    }
    const entry = { started: false, bytes: 0, failed: false };
    entry.promise = new Promise((resolve, reject) => {
      entry.start = () => {
        entry.started = true;
        this.loading += 1;
        fetch(key, { credentials: "same-origin" })
          .then(async (response) => {
            if (!response.ok) {
              let message = `HTTP ${response.status}`;
              try {
                message = (await response.json()).message ?? message;
              } catch {} // not a JSON error body: the HTTP status is the message
              throw new Error(message);
            }
            const { frameData, bytes } = await this.decode(response);
            entry.bytes = bytes;
            this.bytes += entry.bytes;
            this.trim();
            resolve(frameData);
          })
          .catch((error) => {
            this.entries.delete(key); // a failure is asked again next time, not remembered
            reject(error);
          })
          .finally(() => {
            this.loading -= 1;
            this.pump();
          });
      };
    });
    // A prefetched frame nobody awaits must not raise an unhandled rejection; whoever shows the
    // frame awaits this promise (or asks again, failures are not kept) and reports the error.
    entry.promise.catch(() => {});
    this.entries.set(key, entry);
    if (urgent) this.waiting.unshift(entry);
    else this.waiting.push(entry);
    this.pump();
    return entry.promise;
  }

  // The response body as what `get` resolves with, and the bytes it holds (colour-frames.js
  // overrides this and `url` for 8-bit colour renditions).
  async decode(response) {
    const frameData = parseFrame(await response.arrayBuffer());
    return { frameData, bytes: frameData.values ? frameData.values.byteLength : 0 };
  }

  // Frames near `frame` (ahead first), so stepping and cine find them ready.
  prefetch(id, frame, frames, plane = null, ahead = 4) {
    for (let step = 1; step <= ahead; step++) {
      if (frame + step <= frames) this.get(id, frame + step, plane, { urgent: false });
    }
    if (frame > 1) this.get(id, frame - 1, plane, { urgent: false });
  }

  promote(entry) {
    const at = this.waiting.indexOf(entry);
    if (at > 0) {
      this.waiting.splice(at, 1);
      this.waiting.unshift(entry);
    }
  }

  pump() {
    // The urgent one (head of the queue) may always start: the annotator is waiting for it.
    while (this.waiting.length && (this.loading < MAX_LOADING || this.loading === 0)) this.waiting.shift().start();
  }

  trim() {
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.cacheBytes) break;
      if (!entry.bytes) continue;
      this.bytes -= entry.bytes;
      this.entries.delete(key);
    }
  }
}
