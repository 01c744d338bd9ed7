// The local stack's page: the mobile app's protocol in a browser, drawn over the video being analysed.
// The video plays while it is analysed; the skeleton (`keypoints`), the count and each rep's grade (`counter`) are
// drawn as their messages arrive, a hold's count in seconds. A photo comes back as `image_overlay`.
// `document.body.dataset.state` is idle | uploading | analysing | done | error, and `window.uptrackMessages` holds
// the current upload's messages (for the console and the browser test).
// The token: `?token=` in the page's address, else the one `/config.json` offers (a loopback visitor of
// `uptrack serve` gets the development token), else typed in.

import { Overlay } from "/overlay.js";
import { Refused, isFinal, onlyKeypointsBlocked, startUpload } from "/stream.js";

const $ = (id) => document.getElementById(id);
const state = { config: null, messages: [], finalCount: null, unit: "reps", overlay: null };

async function main() {
  state.config = await (await fetch("/config.json")).json();
  for (const exercise of state.config.exercises) {
    $("exercise").add(new Option(`${exercise.name} (${exercise.id})`, exercise.id));
  }
  $("exercise").value = state.config.defaultExercise;
  // only a browser on the server's own machine is handed the development token; others paste one (or pass ?token=)
  $("token").value = new URLSearchParams(window.location.search).get("token") || state.config.token || "";
  state.overlay = new Overlay($("video"), $("overlay"), state.config);
  $("file").addEventListener("change", () => showMedia($("file").files[0]));
  $("video").addEventListener("loadedmetadata", () => fitPlayer($("video").videoWidth, $("video").videoHeight));
  $("photo").addEventListener("load", () => fitPlayer($("photo").naturalWidth, $("photo").naturalHeight));
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    upload($("file").files[0]).catch(fail);
  });
}

function sourceOf(file) {
  return file && file.type.startsWith("image/") ? "image" : "video";
}

function fitPlayer(width, height) {
  if (width && height) $("player").style.aspectRatio = `${width} / ${height}`;
}

function showMedia(file) {
  if (!file) return;
  const url = URL.createObjectURL(file);
  document.body.dataset.source = sourceOf(file);
  if (sourceOf(file) === "image") {
    $("photo").src = url;
  } else {
    $("video").src = url;
  }
  for (const id of ["exercise", "difficulty", "min-grade", "export"]) $(id).disabled = sourceOf(file) === "image";
  setStatus("idle", `${file.name}: ${(file.size / 1e6).toFixed(1)} MB. Upload it when ready.`);
}

function setStatus(phase, text) {
  document.body.dataset.state = phase;
  $("status-text").textContent = text;
}

function fail(error) {
  if (error instanceof Refused) {
    accept(error.error);
    return;
  }
  setStatus("error", String(error.message || error));
  $("start").disabled = false;
}

// What the form asks for; only what applies to the file's kind (a photo has no exercise, grades or export).
function requestQuery(file, keypoints) {
  const source = sourceOf(file);
  const query = new URLSearchParams({ token: $("token").value.trim(), source });
  if (keypoints) query.set("keypoints", "true");
  if (source === "video") {
    query.set("exercise", $("exercise").value);
    query.set("difficulty", $("difficulty").value);
    if ($("min-grade").value) query.set("minGrade", $("min-grade").value);
    if ($("export").checked) query.set("export", "true");
  }
  return query.toString();
}

async function upload(file) {
  const exercise = state.config.exercises.find((entry) => entry.id === $("exercise").value);
  state.unit = sourceOf(file) === "video" && exercise?.kind === "duration" ? "s" : "reps";
  Object.assign(state, { messages: [], finalCount: null });
  window.uptrackMessages = state.messages;
  state.overlay.reset(state.unit);
  $("results-title").textContent = state.unit === "s" ? "Hold" : "Reps";
  for (const id of ["log", "reps"]) $(id).replaceChildren();
  $("summary").textContent = "";
  $("download").hidden = true;
  $("start").disabled = true;
  $("progress").value = 0;
  setStatus("uploading", "Uploading…");
  if (sourceOf(file) === "video") {
    $("video").loop = true;
    $("video").play().catch(() => {});
  }
  try {
    await startUpload("", requestQuery(file, true), file, accept, fail);
  } catch (error) {
    if (!onlyKeypointsBlocked(error)) throw error;
    await startUpload("", requestQuery(file, false), file, accept, fail); // this plan has no keypoints
  }
  if (document.body.dataset.state === "uploading") setStatus("analysing", "Uploaded; analysing…");
}

function accept(message) {
  state.messages.push(message);
  state.overlay.accept(message);
  logMessage(message);
  switch (message.type) {
    case "progress":
      $("progress").value = message.percent;
      setStatus("analysing", `Analysing… ${message.percent.toFixed(0)} %`);
      break;
    case "counter":
      if (message.final) {
        state.finalCount = message.current_count;
      } else if (message.form_score) {
        addRep(message);
      }
      break;
    case "exercise_summary":
      $("summary").textContent = summaryText(message);
      break;
    case "image_overlay":
      $("photo").src = message.data;
      break;
    case "export_ready":
      Object.assign($("download"), { href: message.url, hidden: false });
      break;
    case "error":
      setStatus("error", `${message.code}: ${message.message}`);
      $("start").disabled = false;
      break;
  }
  if (isFinal(message) && message.type !== "error") finish();
}

function summaryText(summary) {
  if (state.unit === "s") return `Held ${summary.counter} s` + (summary.grade ? `, grade ${summary.grade}` : "");
  return `${summary.counter} reps` + (summary.grade ? `, average grade ${summary.grade}` : "");
}

function finish() {
  $("progress").value = 100;
  const done = document.body.dataset.source === "image" ? "Done: the pose is drawn on the photo."
    : `Done: ${state.finalCount ?? 0} ${state.unit === "s" ? "s held" : "reps"}. Play the video to see it drawn.`;
  setStatus("done", done);
  $("start").disabled = false;
  const video = $("video");
  video.loop = false;
  video.currentTime = 0;
  video.play().catch(() => {});
}

function addRep(message) {
  const item = document.createElement("li");
  const { grade, score } = message.form_score;
  item.dataset.t = String(message.timestampMs ?? 0);
  const badge = document.createElement("span");
  badge.className = `grade ${grade}`;
  badge.textContent = grade;
  const text = document.createElement("span");
  text.textContent = `Rep ${message.current_count} · score ${Math.round(score)} · at ${(message.timestampMs / 1000).toFixed(1)} s`;
  item.append(badge, text);
  const why = failedCriterion(message.form_score);
  if (why) item.append(Object.assign(document.createElement("span"), { className: "why", textContent: why }));
  $("reps").append(item);
}

// What cost the rep its grade: the failed criterion's label and score (uptrack's `form_score.failed_criterion`).
function failedCriterion(form) {
  if (!form.failed_criterion) return "";
  const failed = (form.criteria ?? []).find((c) => c.name === form.failed_criterion);
  return failed ? `${failed.label} ${Math.round(failed.score)}` : form.failed_criterion;
}

function logMessage(message) {
  const item = document.createElement("li");
  item.className = message.type;
  const { type, seq, uploadId, ...rest } = message;
  for (const key of ["data", "keypoints"]) {
    if (Array.isArray(rest[key])) rest[key] = `[${rest[key].length} ${type === "keypoints_batch" ? "frames" : "points"}]`;
    else if (typeof rest[key] === "string" && rest[key].length > 80) rest[key] = `${rest[key].slice(0, 40)}…`;
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

// The rep list follows playback: a rep is highlighted once the video has reached it.
function followPlayback() {
  const ms = $("video").currentTime * 1000;
  for (const item of $("reps").children) item.classList.toggle("reached", Number(item.dataset.t) <= ms);
  requestAnimationFrame(followPlayback);
}

main().then(followPlayback).catch(fail);
