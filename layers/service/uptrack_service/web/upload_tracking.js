// The hosted Upload Tracking page (`/pose_tracker/upload_tracking?token=…&exercise=…`), PoseTracker's drop-in:
// an app opens it in a WebView or an iframe with the same query parameters, and every message of the analysis
// reaches the app through each bridge present, as a JSON string:
//   iframe       window.parent.postMessage(text, "*")
//   iOS          webkit.messageHandlers.iosListener.postMessage(text)
//   Android      window.webViewCallback(text)
//   React Native ReactNativeWebView.postMessage(text)
// The messages are the service's own (what `uptrack upload` prints for the same query), in `seq` order; the page
// adds PoseTracker's "Your video is processing, please stay on this page (N%)" `initialization` beside each
// `progress` (these carry no `seq`). With `skeleton` on, the page asks the service for keypoints to draw them and
// hands them to the host only when the host asked for them too.

import { Overlay } from "/overlay.js";
import { Refused, isFinal, onlyKeypointsBlocked, startUpload } from "/stream.js";

const $ = (id) => document.getElementById(id);
const FALSE_VALUES = new Set(["false", "0", "no", "off"]);
const TRUE_VALUES = new Set(["true", "1", "yes", "on"]);
const PROCESSING = "Your video is processing, please stay on this page";
const KEYPOINT_TYPES = new Set(["keypoints", "keypoints_batch"]);

const query = new URLSearchParams(window.location.search);

// A query parameter as PoseTracker reads names: case, "_" and "-" do not matter; the last value wins.
function param(...names) {
  const wanted = new Set(names.map((name) => name.toLowerCase().replace(/[_-]/g, "")));
  let value = null;
  for (const [name, given] of query) {
    if (wanted.has(name.toLowerCase().replace(/[_-]/g, "")) && given.trim() !== "") value = given.trim();
  }
  return value;
}

const flag = (value, fallback) => (value === null ? fallback : TRUE_VALUES.has(value.toLowerCase())
  || (!FALSE_VALUES.has(value.toLowerCase()) && fallback));

const request = {
  token: param("token"),
  source: (param("source") || "video").toLowerCase(),
  remote: null,
  exercise: param("exercise"),
  reference: param("reference", "reference_movement"),
  skeleton: flag(param("skeleton"), true),
  hostKeypoints: flag(param("keypoints"), false),
};
request.remote = request.source === "image" ? param("imageSrc") : param("videoSrc");

// Keypoints reach the host when it asked for them, or when it tracks no exercise (pose-only streams always do).
const hostGetsKeypoints = request.hostKeypoints || (!request.exercise && !request.reference);
let pageAddsKeypoints = request.skeleton && !hostGetsKeypoints;

function toHost(message) {
  const text = JSON.stringify(message);
  if (window.parent !== window) window.parent.postMessage(text, "*");
  window.webkit?.messageHandlers?.iosListener?.postMessage(text);
  if (typeof window.webViewCallback === "function") window.webViewCallback(text);
  window.ReactNativeWebView?.postMessage(text);
}

function setState(state, text) {
  document.body.dataset.state = state;
  const note = document.body.dataset.unplayable ? " (this browser cannot show the video; it is analysed all the same)" : "";
  $("status").textContent = text + note;
}

let overlay = null;
let serverSaysProcessing = false;

function receive(message) {
  overlay?.accept(message);
  if (message.type === "initialization" && String(message.message).startsWith(PROCESSING)) serverSaysProcessing = true;
  if (!(pageAddsKeypoints && KEYPOINT_TYPES.has(message.type))) toHost(message);
  if (message.type === "progress") {
    const text = `${PROCESSING} (${Math.round(message.percent)}%)`;
    if (!serverSaysProcessing) toHost({ type: "initialization", message: text, ready: false, source: request.source });
    setState("analysing", text);
  } else if (message.type === "image_overlay") {
    showImage(message.data);
  } else if (message.type === "error") {
    setState("error", `${message.code}: ${message.message}`);
  }
  if (isFinal(message) && message.type !== "error") {
    setState("done", message.message);
    replay();
  }
}

function fail(error) {
  if (error instanceof Refused) {
    receive(error.error);
    return;
  }
  const code = request.source === "image" ? "image_load_error" : "video_load_error";
  receive({ type: "error", code, error: code, message: String(error.message || error) });
}

function replay() {
  const video = $("video");
  if (!video.src) return;
  video.currentTime = 0;
  video.play().catch(() => {});
}

function showImage(dataUrl) {
  const video = $("video");
  video.poster = dataUrl;
}

async function start(file) {
  setState("uploading", request.source === "image" ? "loading image" : "loading video");
  const video = $("video");
  if (request.source === "video") {
    // A format this browser cannot show (MPEG-4 Part 2, say) is still analysed: only the drawing is lost.
    video.onerror = () => { document.body.dataset.unplayable = "true"; };
    video.src = file ? URL.createObjectURL(file) : request.remote;
    video.loop = true;
    video.play().catch(() => {});
  }
  try {
    await startUpload("", uploadQuery(), file, receive, fail);
  } catch (error) {
    if (!(pageAddsKeypoints && onlyKeypointsBlocked(error))) throw error;
    pageAddsKeypoints = false; // a plan without keypoints: the page draws the count and grades only
    await startUpload("", uploadQuery(), file, receive, fail);
  }
}

function uploadQuery() {
  const sent = new URLSearchParams(query);
  if (pageAddsKeypoints) sent.set("keypoints", "true");
  return sent.toString();
}

// Without a token nothing can be created or metered: the service answers with the query's first problem, or
// `missing_token`, exactly as it would for an upload. With a token, the query is checked when the upload starts.
async function refuseWithoutToken() {
  await startUpload("", query.toString(), { size: 1, type: "" }, receive, fail);
}

async function drawingConfig() {
  try {
    const config = await (await fetch("/config.json")).json();
    return { skeleton: config.skeleton || [], minScore: config.minScore ?? 0.3, exercises: config.exercises || [] };
  } catch {
    return { skeleton: [], minScore: 0.3, exercises: [] };
  }
}

async function main() {
  const isImage = request.source === "image";
  $("picker-label").textContent = param("uploadLabel") || (isImage ? "Upload an image" : "Upload a video");
  $("file").accept = isImage ? "image/*" : "video/*";
  if (flag(param("isMobile"), false)) document.body.dataset.mobile = "true";
  const config = await drawingConfig();
  const exercise = config.exercises.find((entry) => entry.id === request.exercise);
  overlay = new Overlay($("video"), $("overlay"), config);
  overlay.showSkeleton = request.skeleton;
  overlay.reset(exercise?.kind === "duration" ? "s" : "reps");
  if (!request.token) {
    await refuseWithoutToken();
    return;
  }
  if (request.remote) {
    await start(null);
    return;
  }
  setState("idle", "");
  $("file").addEventListener("change", () => {
    const file = $("file").files[0];
    if (file) start(file).catch(fail);
  });
}

main().catch(fail);
