// One upload, the way the mobile app does it, shared by the local page and the hosted Upload Tracking page:
// POST /uploads?{query} -> WebSocket subscribe -> PUT the file (none for videoSrc/imageSrc) -> messages in `seq`
// order, each once, until the final one. A `message_link` is replaced by the message it points at; a gap left when
// the final message arrives is filled from GET /uploads/{id}?afterSeq=.

export const COMPLETED = "Analysis completed";

export function isFinal(message) {
  return message.type === "error" || (message.type === "initialization" && message.ready === true
    && message.message === COMPLETED);
}

// A refusal of the HTTP API that answered with a contract `error`: callers hand it on as it is.
export class Refused extends Error {
  constructor(error) {
    super(`${error.code}: ${error.message}`);
    this.error = error;
  }
}

function refusal(status, body) {
  return body && body.type === "error" ? new Refused(body) : new Error(`The service answered HTTP ${status}.`);
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

// POST /uploads: the created upload (id, presigned PUT, WebSocket). `file` is null when the query names a
// videoSrc/imageSrc that the service fetches itself.
export async function createUpload(base, query, file) {
  const body = file ? { contentType: file.type || undefined, contentLength: file.size } : {};
  const response = await fetch(`${base}/uploads?${query}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const created = await readJson(response);
  if (!response.ok) throw refusal(response.status, created);
  return created;
}

export async function putFile(created, file) {
  const headers = { ...created.upload.headers };
  delete headers["Content-Length"]; // the browser sets it from the file
  const put = await fetch(created.upload.url, { method: created.upload.method, headers, body: file });
  if (!put.ok) throw refusal(put.status, null);
}

export class MessageStream {
  // `onMessage(wire)` gets each message once, in order; `onFailure(error)` a transport failure.
  constructor(base, created, token, onMessage, onFailure) {
    this.base = base;
    this.uploadId = created.uploadId;
    this.token = token;
    this.onMessage = onMessage;
    this.onFailure = onFailure;
    this.nextSeq = 1;
    this.pending = new Map();
    this.finalSeq = null;
    this.filling = false;
    const separator = created.websocketUrl.includes("?") ? "&" : "?";
    this.socket = new WebSocket(`${created.websocketUrl}${separator}${new URLSearchParams({ token })}`);
    this.opened = new Promise((resolve, reject) => {
      this.socket.onopen = () => {
        this.socket.send(JSON.stringify(created.subscribe));
        resolve();
      };
      this.socket.onerror = () => reject(new Error("The WebSocket could not be opened."));
    });
    this.socket.onmessage = (event) => this.receive(JSON.parse(event.data)).catch(onFailure);
  }

  async receive(wire) {
    if (wire.type === "message_link") wire = await (await fetch(wire.url)).json();
    if (typeof wire.seq !== "number") {
      if (wire.type === "error") throw new Refused(wire);
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
      this.onMessage(wire);
      if (isFinal(wire)) this.socket.close();
    }
  }

  // The final message is here but an earlier one is not: read the stored copies from the HTTP API, twice a second
  // for up to 10 s (a stage is stored a moment after its seq range is reserved).
  async fillGap(attempt = 0) {
    const query = new URLSearchParams({ token: this.token, afterSeq: String(this.nextSeq - 1) });
    const view = await (await fetch(`${this.base}/uploads/${this.uploadId}?${query}`)).json();
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

// Everything for one upload: create, subscribe, PUT; resolves once the file is sent (messages keep coming).
export async function startUpload(base, query, file, onMessage, onFailure) {
  const created = await createUpload(base, query, file);
  const token = new URLSearchParams(query).get("token") || "";
  const stream = new MessageStream(base, created, token, onMessage, onFailure);
  await stream.opened;
  if (created.upload) await putFile(created, file);
  return created;
}

// True when the plan refused the upload for `keypoints` alone: the page asked for them to draw the skeleton, and
// can run the same upload without them (the count and the grades are still drawn).
export function onlyKeypointsBlocked(error) {
  const blocked = error instanceof Refused ? error.error.details?.blocked : null;
  return Array.isArray(blocked) && blocked.length === 1 && blocked[0] === "keypoints";
}
