// The local stack's page: the mobile app's protocol in a browser, drawn over the video being analysed.
// POST /uploads -> WebSocket subscribe -> PUT the file -> messages in `seq` order until the final one.
// `keypoints` messages (keypoints=true&angles=false) are drawn over the local file as it plays; each `counter`
// is a rep with its grade. `document.body.dataset.state` is idle | uploading | analysing | done | error, and
// `window.uptrackMessages` holds the current upload's messages (for the console and the browser test).

const $ = (id) => document.getElementById(id);
const state = { config: null, frames: [], reps: [], messages: [], finalCount: null, summary: null };

function isFinal(message) {
  return message.type === "error" || (message.type === "initialization" && message.ready === true
    && message.message === "Analysis completed");
}

async function main() {
  const response = await fetch("config.json");
  state.config = await response.json();
  for (const exercise of state.config.exercises) {
    $("exercise").add(new Option(`${exercise.name} (${exercise.id})`, exercise.id));
  }
  $("exercise").value = state.config.defaultExercise;
  // only a browser on the server's own machine is handed the development token; others paste one
  $("token").value = state.config.token ?? "";
  $("file").addEventListener("change", () => showVideo($("file").files[0]));
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    upload($("file").files[0], $("exercise").value, $("token").value.trim()).catch(fail);
  });
  requestAnimationFrame(draw);
}

function showVideo(file) {
  if (!file) return;
  $("video").src = URL.createObjectURL(file);
  setStatus("idle", `${file.name}: ${(file.size / 1e6).toFixed(1)} MB. Pick the exercise and upload.`);
}

function setStatus(phase, text) {
  document.body.dataset.state = phase;
  $("status-text").textContent = text;
}

function fail(error) {
  setStatus("error", String(error.message || error));
  $("start").disabled = false;
}

async function upload(file, exercise, token) {
  Object.assign(state, { frames: [], reps: [], messages: [], finalCount: null, summary: null });
  window.uptrackMessages = state.messages;
  $("log").replaceChildren();
  $("reps").replaceChildren();
  $("summary").textContent = "";
  $("start").disabled = true;
  $("progress").value = 0;
  setStatus("uploading", "Creating the upload…");
  const query = new URLSearchParams({ token, exercise, source: "video", keypoints: "true", angles: "false" });
  const created = await fetch(`uploads?${query}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ contentType: file.type || "video/mp4", contentLength: file.size }),
  });
  const body = await created.json();
  if (!created.ok) {
    accept(body);
    throw new Error(`${body.code}: ${body.message}`);
  }
  const stream = new MessageStream(body, token);
  await stream.opened;
  setStatus("uploading", "Uploading the video…");
  const headers = { ...body.upload.headers };
  delete headers["Content-Length"]; // the browser sets it from the file
  const put = await fetch(body.upload.url, { method: body.upload.method, headers, body: file });
  if (!put.ok) throw new Error(`The upload was refused (HTTP ${put.status}).`);
  setStatus("analysing", "Uploaded; analysing…");
}

// Messages of one upload in `seq` order, each once; a `message_link` is replaced by the message it points at.
class MessageStream {
  constructor(created, token) {
    this.uploadId = created.uploadId;
    this.token = token;
    this.nextSeq = 1;
    this.pending = new Map();
    this.finalSeq = null;
    this.filling = false;
    this.socket = new WebSocket(`${created.websocketUrl}&${new URLSearchParams({ token })}`);
    this.opened = new Promise((resolve, reject) => {
      this.socket.onopen = () => {
        this.socket.send(JSON.stringify(created.subscribe));
        resolve();
      };
      this.socket.onerror = () => reject(new Error("The WebSocket could not be opened."));
    });
    this.socket.onmessage = (event) => this.receive(JSON.parse(event.data)).catch(fail);
  }

  async receive(wire) {
    if (wire.type === "message_link") wire = await (await fetch(wire.url)).json();
    if (typeof wire.seq !== "number") {
      accept(wire);
      throw new Error(wire.message || "The subscription was refused.");
    }
    if (wire.seq < this.nextSeq || this.pending.has(wire.seq)) return;
    this.pending.set(wire.seq, wire);
    if (isFinal(wire)) this.finalSeq = wire.seq;
    this.drain();
    if (this.finalSeq !== null && this.nextSeq <= this.finalSeq && !this.filling) {
      this.filling = true;
      await this.fillGap();
    }
  }

  drain() {
    while (this.pending.has(this.nextSeq)) {
      const wire = this.pending.get(this.nextSeq);
      this.pending.delete(this.nextSeq);
      this.nextSeq += 1;
      accept(wire);
      if (isFinal(wire)) this.socket.close();
    }
  }

  // The final message is here but an earlier one is not: read the stored copies from the HTTP API, twice a second
  // for up to 10 s (a stage is stored a moment after its seq range is reserved).
  async fillGap(attempt = 0) {
    const query = new URLSearchParams({ token: this.token, afterSeq: String(this.nextSeq - 1) });
    const view = await (await fetch(`uploads/${this.uploadId}?${query}`)).json();
    for (const wire of view.messages || []) {
      if (wire.seq >= this.nextSeq && !this.pending.has(wire.seq)) this.pending.set(wire.seq, wire);
    }
    this.drain();
    if (this.nextSeq <= this.finalSeq) {
      if (attempt >= 20) throw new Error(`Message ${this.nextSeq} never arrived.`);
      await new Promise((resume) => setTimeout(resume, 500));
      await this.fillGap(attempt + 1);
    }
  }
}

function accept(message) {
  state.messages.push(message);
  logMessage(message);
  switch (message.type) {
    case "progress":
      $("progress").value = message.percent;
      setStatus("analysing", `Analysing… ${message.percent.toFixed(0)} %`);
      break;
    case "keypoints":
      state.frames.push({ t: message.timestampMs ?? 0, points: message.keypoints || message.data });
      break;
    case "counter":
      if (message.final) {
        state.finalCount = message.current_count;
      } else if (message.form_score) {
        addRep(message);
      }
      break;
    case "exercise_summary":
      state.summary = message;
      $("summary").textContent = `${message.counter} reps` + (message.grade ? `, average grade ${message.grade}` : "");
      break;
    case "error":
      setStatus("error", `${message.code}: ${message.message}`);
      $("start").disabled = false;
      break;
  }
  if (isFinal(message) && message.type !== "error") {
    $("progress").value = 100;
    setStatus("done", `Done: ${state.finalCount ?? 0} reps. Play the video to see each rep drawn.`);
    $("start").disabled = false;
    const video = $("video");
    if (video.paused && video.currentTime === 0) video.play().catch(() => {});
  }
}

function addRep(message) {
  const rep = { count: message.current_count, t: message.timestampMs ?? 0, ...message.form_score };
  state.reps.push(rep);
  const item = document.createElement("li");
  item.dataset.t = String(rep.t);
  item.innerHTML = `<span class="grade ${rep.grade}">${rep.grade}</span>`
    + `<span>Rep ${rep.count} · score ${Math.round(rep.score)} · at ${(rep.t / 1000).toFixed(1)} s</span>`;
  $("reps").append(item);
}

function logMessage(message) {
  const item = document.createElement("li");
  item.className = message.type;
  const { type, seq, uploadId, ...rest } = message;
  for (const key of ["data", "keypoints"]) {
    if (Array.isArray(rest[key])) rest[key] = `[${rest[key].length} ${type === "keypoints_batch" ? "frames" : "points"}]`;
  }
  const number = document.createElement("span");
  number.textContent = String(seq ?? "–");
  const label = document.createElement("b");
  label.textContent = type;
  item.append(number, label, ` ${JSON.stringify(rest)}`);
  $("log").append(item);
  $("log").scrollTop = $("log").scrollHeight;
  $("message-count").textContent = String(state.messages.length);
}

// --- drawing -----------------------------------------------------------------------------------------------

function frameAt(ms) {
  const frames = state.frames;
  let low = 0;
  let high = frames.length - 1;
  let best = null;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (frames[middle].t <= ms) {
      best = frames[middle];
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best && ms - best.t <= 250 ? best : null;
}

function draw() {
  const video = $("video");
  const canvas = $("overlay");
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
  if (video.videoWidth) {
    const fit = Math.min(width / video.videoWidth, height / video.videoHeight);
    const box = {
      x: (width - video.videoWidth * fit) / 2,
      y: (height - video.videoHeight * fit) / 2,
      w: video.videoWidth * fit,
      h: video.videoHeight * fit,
    };
    const frame = frameAt(ms);
    if (frame) drawSkeleton(context, frame.points, box);
  }
  drawHud(ms);
  requestAnimationFrame(draw);
}

function drawSkeleton(context, points, box) {
  const byName = new Map(points.map((point) => [point.name, point]));
  const at = (point) => [box.x + point.x * box.w, box.y + point.y * box.h];
  const seen = (point) => point && point.score >= state.config.minScore;
  context.lineWidth = Math.max(2, box.h / 160);
  context.lineCap = "round";
  for (const [first, second] of state.config.skeleton) {
    const a = byName.get(first);
    const b = byName.get(second);
    if (!seen(a) || !seen(b)) continue;
    const side = first.startsWith("left") && second.startsWith("left") ? "#35a7ff"
      : first.startsWith("right") && second.startsWith("right") ? "#ffa534" : "#f2f2f2";
    context.strokeStyle = side;
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

function drawHud(ms) {
  const done = state.reps.filter((rep) => rep.t <= ms);
  $("count").textContent = String(done.length);
  $("count-unit").textContent = done.length === 1 ? "rep" : "reps";
  const last = done[done.length - 1];
  $("grade").textContent = last ? last.grade : "–";
  $("grade").className = `grade ${last ? last.grade : ""}`;
  for (const item of $("reps").children) item.classList.toggle("reached", Number(item.dataset.t) <= ms);
}

main().catch(fail);
