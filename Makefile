# make run: install, migrate, seed demo data, serve on SQLite (http://127.0.0.1:8000)
# make test: install, lint, check schema.graphql, run the whole suite on SQLite and PostgreSQL

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The gettext catalogs of the hosted pages and the emails; the .mo files are build output.
CATALOGS := $(wildcard app/locale/*/LC_MESSAGES/*.po mailers/locale/*/LC_MESSAGES/*.po)
POT_FLAGS := --add-location=file --sort-output --add-comments=TRANSLATORS: \
	--project=customer-portal --version=0.1.0 --copyright-holder="the customer portal's authors"

.PHONY: install run test schema contract client lint audit-deps frontend-deps codegen-deps clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) $(CATALOGS:.po=.mo)

# A catalog is compiled again whenever its .po file changes.
%.mo: %.po | $(STAMP)
	$(BIN)/pybabel compile --input-file=$< --output-file=$@

# After changing the words in a template: extract them, merge them into the catalogs, then
# translate the new entries in the .po files (a test fails while one is left untranslated).
messages: install
	$(BIN)/pybabel extract -F babel.cfg $(POT_FLAGS) -o app/locale/portal.pot app/templates
	$(BIN)/pybabel update -i app/locale/portal.pot -d app/locale -D portal
	$(BIN)/pybabel extract -F babel.cfg $(POT_FLAGS) -o mailers/locale/mailers.pot mailers/templates
	$(BIN)/pybabel update -i mailers/locale/mailers.pot -d mailers/locale -D mailers

run: install
	$(BIN)/portal migrate
	$(BIN)/portal demo
	$(BIN)/portal serve

# graphql-http's conformance audit runs under node; without node the audit test is skipped
# locally (and fails in CI, where node is expected).
audit-deps:
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/http_audit && npm install --no-audit --no-fund --silent; \
	else echo "npm not found: the graphql-http audit will be skipped"; fi

# The example frontend (examples/portal-frontend) is compiled against schema.graphql by a test;
# its packages are installed from package-lock.json when the lock is newer than node_modules.
FRONTEND := examples/portal-frontend
frontend-deps:
	@if command -v npm >/dev/null 2>&1; then \
		if [ ! $(FRONTEND)/node_modules/.package-lock.json -nt $(FRONTEND)/package-lock.json ]; then \
			cd $(FRONTEND) && npm ci --no-audit --no-fund --silent; \
		fi; \
	else echo "npm not found: the example frontend's type check will be skipped"; fi

# ariadne-codegen generates the Python client in tests/clients/portal_client from schema.graphql
# and tests/clients/operations; it wants an older graphql-core and ruff than the app, so it has a
# venv of its own. A test regenerates the client and fails when the committed one drifts.
CODEGEN_VENV := .venv-codegen
$(CODEGEN_VENV)/.installed: tests/clients/codegen-requirements.txt
	$(PYTHON) -m venv $(CODEGEN_VENV)
	$(CODEGEN_VENV)/bin/pip install --quiet --upgrade pip
	$(CODEGEN_VENV)/bin/pip install --quiet -r $<
	touch $@

codegen-deps: $(CODEGEN_VENV)/.installed

client: codegen-deps
	rm -rf tests/clients/portal_client
	cd tests/clients && ../../$(CODEGEN_VENV)/bin/ariadne-codegen --config ariadne-codegen.toml client

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

schema: install
	$(BIN)/python -c "import sys; from strawberry.printer import print_schema; from schema import schema; sys.stdout.write(print_schema(schema) + '\n')" > schema.graphql

# The breaking and dangerous changes since schema.released.graphql, checked against CHANGELOG.md
# (README: "Versioning the API"); tests/contract runs the same check.
contract: install
	$(BIN)/python scripts/schema_contract.py

# The test files are spread over the machine's cores (pytest-xdist), a file's tests together so
# that its module fixtures (a browser, a server, localstripe) start once.
test: install audit-deps frontend-deps codegen-deps lint
	$(BIN)/python -m pytest -n auto --dist loadfile

clean:
	rm -rf $(VENV) $(CODEGEN_VENV) var tests/http_audit/node_modules \
		$(FRONTEND)/node_modules $(FRONTEND)/src/gql $(CATALOGS:.po=.mo)
