// Cine: play a multi-frame run at the file's own pace, Frame Time (0018,1063) or Cine Rate
// (0018,0040); 10 frames per second when the file says nothing (and for volumes). A frame not yet
// fetched is waited for, never skipped, so every frame of a run is seen.

const DEFAULT_FRAME_MS = 100;

export class Cine {
  // button: the Play/Pause button (main.js, through the medical view)
  constructor(medical, button) {
    this.medical = medical;
    this.playing = false;
    this.timer = null;
    this.shown = 0; // frames advanced while playing (the e2e test reads it)
    this.button = button;
  }

  // Grey frames carry their own header; colour files send one header with a Frame Time Vector
  // whole (`frame_times_ms`, indexed by frame - 1) when they have one.
  frameMs() {
    const header = this.medical.header;
    const own = header?.frame_times_ms?.[this.medical.frame - 1];
    if (own > 0) return own;
    return header?.frame_time_ms > 0 ? header.frame_time_ms : DEFAULT_FRAME_MS;
  }

  toggle() {
    if (this.playing) this.stop();
    else this.play();
  }

  play() {
    if (this.playing || this.medical.count <= 1 || this.medical.tri.on) return;
    this.playing = true;
    this.button.textContent = "Pause";
    this.button.setAttribute("aria-pressed", "true");
    this.schedule(this.frameMs());
  }

  stop() {
    this.playing = false;
    clearTimeout(this.timer);
    this.timer = null;
    this.button.textContent = "Play";
    this.button.setAttribute("aria-pressed", "false");
  }

  schedule(delay) {
    this.timer = setTimeout(() => this.tick(), Math.max(0, delay));
  }

  async tick() {
    if (!this.playing) return;
    const started = performance.now();
    const { medical } = this;
    const next = (medical.frame % medical.count) + 1; // loops back to frame 1
    await medical.goFrame(next);
    if (!this.playing) return;
    this.shown += 1;
    // The time spent fetching counts towards the frame's interval.
    this.schedule(this.frameMs() - (performance.now() - started));
  }
}
