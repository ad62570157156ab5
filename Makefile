# Giao Ban: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= configs/example.toml
SYSTEM_PACKAGES := chromium redis-server iproute2 janus coturn firefox-esr nodejs nginx-light strace
FIREFOX_DRIVER := tests/e2e/firefox

.PHONY: run test venv dev system-packages firefox-driver lint typecheck bench mutation clean

$(BIN)/giaoban: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

venv: $(BIN)/giaoban

$(VENV)/.dev: $(BIN)/giaoban
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

dev: $(VENV)/.dev

# Installs the Debian packages the tests drive (real Chromium, Firefox ESR and Node to
# drive it, real redis-server, coturn, nginx in front of the server, strace to record the
# server's every outgoing connection, Janus as the benchmark's baseline), only when one
# is missing.
system-packages:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The Node packages (puppeteer-core) that drive Firefox ESR over WebDriver BiDi in the
# browser scenarios, exactly as package-lock.json pins them; no browser is downloaded.
# Debian's nodejs comes without npm (its own package); other builds of nodejs bring it.
$(FIREFOX_DRIVER)/node_modules/.installed: $(FIREFOX_DRIVER)/package.json $(FIREFOX_DRIVER)/package-lock.json
	@command -v npm >/dev/null || { SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm; }
	cd $(FIREFOX_DRIVER) && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	touch $@

firefox-driver: system-packages $(FIREFOX_DRIVER)/node_modules/.installed

run: venv
	$(BIN)/giaoban serve --config $(CONFIG)

test: dev system-packages firefox-driver
	$(BIN)/ruff check sfu signaling rooms web tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest tests

lint: dev
	$(BIN)/ruff check sfu signaling rooms web tests bench
	$(BIN)/mypy

bench: dev system-packages
	$(BIN)/python bench/forwarding.py

# Mutation testing of the pure rules (overlap, spans, recurrence, seat count, E-model,
# classification, RTP rewriting; see [tool.mutmut] in pyproject.toml): every surviving
# mutant is a change to a rule that no unit test notices. Not part of `make test`.
MUTATION_TIMEOUT ?= 1800
mutation: dev
	rm -rf mutants
	timeout $(MUTATION_TIMEOUT) $(BIN)/mutmut run --max-children 2 || test $$? -eq 124  # a run cut short by the bound still has its results
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mutants
