// The skeleton, the count and the last grade drawn over a playing video, from the messages received so far.
// `keypoints` messages give the skeleton at their `timestampMs`; each `counter` gives the count from its time on
// (reps for a repetition exercise, seconds held for a hold) and, with `form_score`, the grade of that rep.
// What is drawn for the current frame is also kept in `canvas.dataset` (count, unit, grade) for tests and readers.

const LEFT = "#35a7ff";
const RIGHT = "#ffa534";
const MIDDLE = "#f2f2f2";
const GRADE_COLOURS = { A: "#2fbf71", B: "#8bc34a", C: "#f2c744", D: "#f08c3a", E: "#e8583d", F: "#d7263d" };
const STALE_MS = 250;

export class Overlay {
  // `config`: { skeleton: [[name, name], ...], minScore } (from /config.json); `unit`: "reps" or "s".
  constructor(video, canvas, config) {
    this.video = video;
    this.canvas = canvas;
    this.config = config;
    this.showSkeleton = true;
    this.reset("reps");
    requestAnimationFrame(() => this.draw());
  }

  reset(unit) {
    this.unit = unit;
    this.frames = [];
    this.counters = [];
  }

  accept(message) {
    if (message.type === "keypoints") {
      this.frames.push({ t: message.timestampMs ?? 0, points: message.keypoints || message.data });
      this.frames.sort((a, b) => a.t - b.t);
    } else if (message.type === "counter" && !message.final) {
      this.counters.push({ t: message.timestampMs ?? 0, count: message.current_count, grade: message.form_score?.grade });
      this.counters.sort((a, b) => a.t - b.t);
    }
  }

  // The count and the grade of the last rep reached at `ms` of the video.
  hudAt(ms) {
    const reached = this.counters.filter((counter) => counter.t <= ms);
    const graded = reached.filter((counter) => counter.grade);
    const count = reached.length ? reached[reached.length - 1].count : 0;
    return { count, grade: graded.length ? graded[graded.length - 1].grade : null };
  }

  frameAt(ms) {
    let low = 0;
    let high = this.frames.length - 1;
    let best = null;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (this.frames[middle].t <= ms) {
        best = this.frames[middle];
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return best && ms - best.t <= STALE_MS ? best : null;
  }

  draw() {
    const { video, canvas } = this;
    const context = canvas.getContext("2d");
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    const scale = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * scale) || canvas.height !== Math.round(height * scale)) {
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
    }
    context.setTransform(scale, 0, 0, scale, 0, 0);
    context.clearRect(0, 0, width, height);
    const ms = video.currentTime * 1000;
    if (video.videoWidth && width && height) {
      const fit = Math.min(width / video.videoWidth, height / video.videoHeight);
      const box = {
        x: (width - video.videoWidth * fit) / 2,
        y: (height - video.videoHeight * fit) / 2,
        w: video.videoWidth * fit,
        h: video.videoHeight * fit,
      };
      const frame = this.showSkeleton ? this.frameAt(ms) : null;
      if (frame) this.drawSkeleton(context, frame.points, box);
      this.drawHud(context, this.hudAt(ms), box);
    }
    requestAnimationFrame(() => this.draw());
  }

  drawSkeleton(context, points, box) {
    const byName = new Map(points.map((point) => [point.name, point]));
    const at = (point) => [box.x + point.x * box.w, box.y + point.y * box.h];
    const seen = (point) => point && point.score >= this.config.minScore;
    context.lineWidth = Math.max(2, box.h / 160);
    context.lineCap = "round";
    for (const [first, second] of this.config.skeleton) {
      const a = byName.get(first);
      const b = byName.get(second);
      if (!seen(a) || !seen(b)) continue;
      context.strokeStyle = first.startsWith("left") && second.startsWith("left") ? LEFT
        : first.startsWith("right") && second.startsWith("right") ? RIGHT : MIDDLE;
      context.beginPath();
      context.moveTo(...at(a));
      context.lineTo(...at(b));
      context.stroke();
    }
    context.fillStyle = "white";
    for (const point of points) {
      if (!seen(point)) continue;
      const [x, y] = at(point);
      context.beginPath();
      context.arc(x, y, context.lineWidth * 1.2, 0, 2 * Math.PI);
      context.fill();
    }
  }

  // A badge in the top-left corner of the picture: "3 reps" or "12 s", and the last grade in its colour.
  drawHud(context, hud, box) {
    const unit = this.unit === "s" ? "s" : hud.count === 1 ? "rep" : "reps";
    Object.assign(this.canvas.dataset, { count: String(hud.count), unit, grade: hud.grade || "" });
    const size = Math.max(16, Math.min(40, box.h / 12));
    const pad = size / 3;
    context.font = `700 ${size}px system-ui, sans-serif`;
    const text = `${hud.count} ${unit}`;
    const textWidth = context.measureText(text).width;
    const badge = hud.grade ? size * 1.4 : 0;
    context.fillStyle = "rgba(0, 0, 0, 0.6)";
    context.fillRect(box.x + pad, box.y + pad, textWidth + 2 * pad + badge, size * 1.5);
    context.fillStyle = "white";
    context.textBaseline = "middle";
    context.fillText(text, box.x + 2 * pad, box.y + pad + size * 0.75);
    if (hud.grade) {
      context.fillStyle = GRADE_COLOURS[hud.grade] || MIDDLE;
      context.fillText(hud.grade, box.x + 2 * pad + textWidth + pad, box.y + pad + size * 0.75);
    }
  }
}
