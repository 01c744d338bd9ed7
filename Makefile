# uptrack — every command a user or CI runs. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MEDIA  ?= ../shared/media
VIDEO  ?= samples/squat_rear_2reps_cc-by-3.0.mp4
EXERCISE ?= squat

.PHONY: demo test check lock lint typecheck unit browser bench accuracy models clean static cfn-lint statelint sam-validate sam-build-zip checkov e2e tools sizes load cold-starts

# requirements-dev.lock pins every package of the dev environment (`make lock` rewrites it after a change).
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]' -c requirements-dev.lock
	touch $(STAMP)

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^pip==' > requirements-dev.lock

# The main job through the real protocol: `uptrack serve` on a free port (own UPTRACK_HOME), one `uptrack upload`,
# its messages on stdout; the server stops on exit (so no page URL is printed: `uptrack serve` keeps one running) and
# the status is the upload's.
demo: $(STAMP)
	@home=$$(mktemp -d); \
	UPTRACK_HOME=$$home $(BIN)/uptrack serve --port 0 >$$home/serve.log 2>&1 & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -rf $$home' EXIT; \
	for i in $$(seq 600); do \
		[ -f $$home/local-stack.json ] && break; \
		kill -0 $$pid 2>/dev/null || { cat $$home/serve.log >&2; exit 1; }; \
		sleep 0.1; \
	done; \
	[ -f $$home/local-stack.json ] || { echo "uptrack serve did not start in 60 s" >&2; exit 1; }; \
	head -n 1 $$home/serve.log >&2; \
	UPTRACK_HOME=$$home $(BIN)/uptrack upload $(VIDEO) --exercise $(EXERCISE) || exit 1; \
	echo "demo done; its local stack stops now. To keep one running (web page, API, WebSocket): $(BIN)/uptrack serve" >&2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy layers/core/uptrack layers/service/uptrack_service

# The whole suite, with the coverage of the test processes (modules not fully covered, and the total). Test files
# run in TEST_WORKERS processes (pytest-xdist), each file whole in one of them (its module fixtures, a local stack or
# a browser, start once); half the suite waits on servers and timeouts, so two workers help even on two cores.
TEST_WORKERS ?= 2
unit: $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --cov --cov-report=term

# The developer's loop: lint, types and the unit tests not marked slow (the integration tests run in `make test`).
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/core/uptrack layers/service/uptrack_service
	$(BIN)/pytest -q -x -m 'not slow' tests/unit

# Debian's Chromium for tests/integration/test_web_page.py (Playwright drives it; its own browser download is never
# used). Without root or apt the test skips and says why.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
		|| echo "warning: chromium could not be installed; the browser test will be skipped" >&2

test: lint typecheck static browser unit

bench: $(STAMP)
	$(BIN)/python -m uptrack_service.tools.bench --media $(MEDIA) --json docs/bench.json
	$(BIN)/python -m uptrack_service.tools.cost_model --bench docs/bench.json

accuracy: $(STAMP)
	$(BIN)/python -m uptrack_service.tools.accuracy --media $(MEDIA)
	$(BIN)/python -m uptrack_service.tools.pose_accuracy --media $(MEDIA)
	$(BIN)/python -m uptrack_service.tools.catalogue_accuracy --media $(MEDIA)

models:
	bash models/build.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .aws-sam

# --- SAM application: static checks, zip build, e2e on moto ---------------------------------------------
# Each tool lives in its own virtualenv under .tools/ (aws-sam-cli pins clash with the app's), made on first use.
TOOLS      := .tools
CFN_LINT   := $(TOOLS)/cfn-lint/bin/cfn-lint
STATELINT  := $(TOOLS)/statelint/bin/statelint
SAM        := $(TOOLS)/sam/bin/sam
CHECKOV    := $(TOOLS)/checkov/bin/checkov
# The template's runtime, python3.12: `sam build` refuses to build its zip functions without a python3.12 on PATH,
# and the artifact tests import every handler with it. A python3.12 on PATH, else pyenv's, else LAMBDA_PYTHON=...
LAMBDA_PYTHON ?= $(firstword $(foreach p,$(shell command -v python3.12) $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12),\
	$(if $(shell $(p) -c 'import sys; print(sys.version_info[:2] == (3, 12))' 2>/dev/null | grep True),$(p))))
SAM_ENV    := AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 $(if $(LAMBDA_PYTHON),PATH=$(dir $(LAMBDA_PYTHON)):$$PATH)
ZIP_BUILD  := .aws-sam/zip
IMAGE_FUNCTIONS := ValidateUploadFunction InferenceFunction AggregateFunction RenderExportFunction JoinExportFunction \
	ProcessReferenceFunction

$(CFN_LINT):
	$(PYTHON) -m venv $(TOOLS)/cfn-lint
	$(TOOLS)/cfn-lint/bin/pip install -q 'cfn-lint==1.58.0'

$(STATELINT):
	$(PYTHON) -m venv $(TOOLS)/statelint
	$(TOOLS)/statelint/bin/pip install -q 'statelint==3.1.0'

$(SAM):
	$(PYTHON) -m venv $(TOOLS)/sam
	$(TOOLS)/sam/bin/pip install -q 'aws-sam-cli==1.170.0'

$(CHECKOV):
	$(PYTHON) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/pip install -q 'checkov==3.3.30'

tools: $(CFN_LINT) $(STATELINT) $(SAM) $(CHECKOV)

cfn-lint: $(CFN_LINT)
	$(CFN_LINT) template.yaml

statelint: $(STATELINT) $(STAMP)
	mkdir -p .aws-sam
	$(BIN)/python -m uptrack_service.local.asl statemachine/analysis.asl.json > .aws-sam/analysis.rendered.json
	@# statelint 3.1 does not know ItemReader.ReaderConfig.InputType (valid ASL, needed by moto and AWS): that one
	@# known false positive is dropped, any other finding fails.
	$(STATELINT) .aws-sam/analysis.rendered.json > .aws-sam/statelint.txt || true
	@if grep -v -e '^[A-Za-z0-9]* errors*:$$' -e 'Field "InputType" not allowed in .*ItemReader.ReaderConfig' .aws-sam/statelint.txt | grep .; \
		then exit 1; else echo "statelint: no findings (besides the known ReaderConfig.InputType false positive)"; fi

sam-validate: $(SAM)
	$(SAM_ENV) $(SAM) validate --lint --template-file template.yaml

# The zip functions and their two layers; the container-image functions need Docker (see docs/deploy.md).
sam-build-zip: $(SAM)
	$(SAM_ENV) $(SAM) build --template-file template.yaml --build-dir $(ZIP_BUILD) --cached --cache-dir .aws-sam/cache \
		$(foreach f,$(IMAGE_FUNCTIONS),--exclude $(f))

# Security scan of template.yaml: any failed check fails the build. A finding is only ever suppressed in
# the template, on its resource (`Metadata: checkov: skip:` with the reason); docs/hardening.md lists them.
# Offline: --skip-download (no Prisma Cloud guidelines or severities, so every failed check counts).
checkov: $(CHECKOV)
	BC_SKIP_MAPPING=TRUE $(CHECKOV) --file template.yaml --framework cloudformation --compact --quiet --skip-download

static: cfn-lint statelint sam-validate sam-build-zip checkov

# The cost model's cold-start inputs (docs/performance.md): each critical-path handler imported by the runtime's
# python3.12 from exactly the image's files (tests/support/image.py), CPU seconds, median and slowest of 7 runs.
cold-starts: $(STAMP)
	UPTRACK_LAMBDA_PYTHON=$(LAMBDA_PYTHON) $(BIN)/python -m tests.support.cold_starts --json docs/cold_starts.json
	$(BIN)/python -m uptrack_service.tools.cost_model --bench docs/bench.json --cold-starts docs/cold_starts.json

# Unzipped size of every zip function with its layers (run after sam-build-zip).
sizes: sam-build-zip
	$(BIN)/python -m uptrack_service.local.sizes $(ZIP_BUILD)

e2e: $(STAMP)
	$(BIN)/pytest -q tests/integration/test_pipeline_e2e.py -s

# 100 uploads at once through the pipeline on moto, each with a WebSocket subscriber: about 1.5 min on two
# cores, so `make test` runs the same test with 12 uploads. Prints wall time, latency percentiles and peak RSS.
load: $(STAMP)
	UPTRACK_LOAD_UPLOADS=100 $(BIN)/pytest -q -s tests/integration/test_load_pipeline.py
