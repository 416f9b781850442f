#!/usr/bin/env bash
# chart-test.sh — the checks of charts/tandem (make chart-test):
#   1. installs the pinned tools (scripts/install-chart-tools.sh; fast when warm)
#   2. helm lint --strict with the default values and with every charts/tandem/ci/*-values.yaml
#   3. the helm-unittest suites in charts/tandem/tests (binary run directly, --strict)
#   4. refusal checks: `helm template` must fail, naming the values, for every invalid
#      combination (and must not echo a credential in the error)
#   5. leak checks: for every ci values set, `helm template` must render no database URL,
#      password or master key outside a Secret (pods only ever use secretKeyRef)
#   6. promtool check rules on tandem's alert rules, as a file and as the chart renders them
# Exits non-zero if any check fails; ends with "chart-test: N passed, M failed".
#
# Environment: HELM_UNITTEST_JUNIT=path  also write the unit-test results as JUnit XML.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHART="$ROOT/charts/tandem"
START=$(date +%s)

BIN_DIR=$("$ROOT/scripts/install-chart-tools.sh" --print-bin-dir) || {
  echo "chart-test: installing the chart tools failed" >&2
  exit 1
}
export PATH="$BIN_DIR:$PATH"
HELM="$BIN_DIR/helm"
UNITTEST="$BIN_DIR/helm-unittest"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

PASSED=0
FAILED=0
FAILURES=()
pass() { PASSED=$((PASSED + 1)); }
fail() {
  FAILED=$((FAILED + 1))
  FAILURES+=("$1")
  echo "FAIL: $1" >&2
}

# ---------------------------------------------------------------------------- 1. lint
echo "== helm lint --strict ($("$HELM" version --short))"
lint() { # $1 = label, rest = extra args
  local label=$1
  shift
  if "$HELM" lint --strict "$CHART" "$@" >"$WORK/lint.out" 2>&1; then
    echo "ok   lint $label"
    pass
  else
    cat "$WORK/lint.out" >&2
    fail "helm lint --strict $label"
  fi
}
lint "(default values)"
for values in "$CHART"/ci/*-values.yaml; do
  lint "-f ci/$(basename "$values")" -f "$values"
done

# ---------------------------------------------------------------------------- 2. helm-unittest
echo "== helm-unittest"
unittest_args=(--strict --color=false)
if [[ -n "${HELM_UNITTEST_JUNIT:-}" ]]; then
  unittest_args+=(--output-type JUnit --output-file "$HELM_UNITTEST_JUNIT")
fi
"$UNITTEST" "${unittest_args[@]}" "$CHART" >"$WORK/unittest.out" 2>&1
unittest_rc=$?
# Print the per-suite lines and any failure detail, not the blank padding.
grep -v '^[[:space:]]*$' "$WORK/unittest.out"
tests_line=$(grep -E '^Tests:' "$WORK/unittest.out" | tail -n1)
ut_passed=$(sed -n 's/.* \([0-9][0-9]*\) passed.*/\1/p' <<<"$tests_line")
ut_failed=$(sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p' <<<"$tests_line")
ut_passed=${ut_passed:-0}
ut_failed=${ut_failed:-0}
PASSED=$((PASSED + ut_passed))
if [[ $unittest_rc -ne 0 || $ut_failed -ne 0 || $ut_passed -eq 0 ]]; then
  FAILED=$((FAILED + (ut_failed > 0 ? ut_failed : 1)))
  FAILURES+=("helm-unittest: $ut_failed failed (exit $unittest_rc)")
fi

# ---------------------------------------------------------------------------- 3. refusals
echo "== refusal checks (helm template must fail)"
W='postgresql://tandem:writer-s3cret@primary:5432/tandem'
R='postgresql://tandem:reader-s3cret@replica:5432/tandem'
BASE=(--set-string "db.url=$W" --set-string masterKey=sk-master-s3cret)
EXISTING=(--set-string masterKey=sk-master-s3cret --set db.useExisting=true)
refuse() { # $1 = label, $2 = text the error must contain, rest = helm args
  local label=$1 want=$2
  shift 2
  if "$HELM" template refusal "$CHART" "$@" >"$WORK/refuse.out" 2>"$WORK/refuse.err"; then
    fail "refusal '$label': helm template succeeded"
  elif ! grep -qF -- "$want" "$WORK/refuse.err"; then
    cat "$WORK/refuse.err" >&2
    fail "refusal '$label': error does not say: $want"
  elif grep -q 's3cret' "$WORK/refuse.err"; then
    fail "refusal '$label': the error message echoes a credential"
  else
    echo "ok   refuses $label"
    pass
  fi
}
refuse "db.readReplicaUrl + db.secret.readReplicaUrlKey" \
  "db.readReplicaUrl and db.secret.readReplicaUrlKey are mutually exclusive" \
  "${BASE[@]}" --set-string "db.readReplicaUrl=$R" --set db.secret.name=pg --set db.secret.readReplicaUrlKey=reader
refuse "db.secret.readReplicaUrlKey without db.secret.name" \
  "db.secret.readReplicaUrlKey requires db.secret.name" \
  "${BASE[@]}" --set db.secret.readReplicaUrlKey=reader
refuse "neither db.url nor db.useExisting" \
  "no writer database configured: set db.url, or db.useExisting=true" \
  --set-string masterKey=sk-master-s3cret
refuse "db.url + db.useExisting" \
  "db.url and db.useExisting are mutually exclusive" \
  "${BASE[@]}" --set db.useExisting=true --set db.endpoint=pg --set db.secret.name=pg
refuse "db.useExisting without db.endpoint" \
  "requires db.endpoint, db.database and db.secret.name (missing: db.endpoint)" \
  "${EXISTING[@]}" --set db.secret.name=pg
refuse "db.useExisting without db.secret.name" \
  "requires db.endpoint, db.database and db.secret.name (missing: db.secret.name)" \
  "${EXISTING[@]}" --set db.endpoint=pg
refuse "no master key" \
  "a master key is required: set masterKey, or masterKeySecret.name" \
  --set-string "db.url=$W"
refuse "masterKey + masterKeySecret.name" \
  "masterKey and masterKeySecret.name are mutually exclusive" \
  "${BASE[@]}" --set masterKeySecret.name=admin
refuse "DATABASE_URL_READ_REPLICA in migrationJob.extraEnv" \
  "migrationJob.extraEnv must not set DATABASE_URL_READ_REPLICA" \
  "${BASE[@]}" --set 'migrationJob.extraEnv[0].name=DATABASE_URL_READ_REPLICA' --set-string "migrationJob.extraEnv[0].value=$R"
refuse "unknown key under db (schema)" \
  "additional properties 'readReplica' not allowed" \
  "${BASE[@]}" --set-string "db.readReplica=$R"
refuse "unknown key under db.secret (schema)" \
  "additional properties 'hostKey' not allowed" \
  "${BASE[@]}" --set db.secret.hostKey=host
refuse "wrong type of db.port (schema)" \
  "/db/port" \
  "${BASE[@]}" --set-string db.port=5432
refuse "wrong type of db.iamAuth (schema)" \
  "/db/iamAuth" \
  "${BASE[@]}" --set-string db.iamAuth=yes

# ---------------------------------------------------------------------------- 4. leaks
echo "== leak checks (no URL, password or key outside a Secret)"
# Splits a rendered manifest into documents and prints "<kind>\t<one line of the document>"
# for every line, so grep can look at everything that is not a Secret.
by_kind() {
  awk '
    function flush() { for (i = 1; i <= n; i++) print kind "\t" buf[i]; n = 0; kind = "?" }
    BEGIN { kind = "?" }
    /^---/ { flush(); next }
    { buf[++n] = $0 }
    /^kind: / && kind == "?" { kind = $2 }
    END { flush() }
  ' "$1"
}
leak_check() { # $1 = label, rest = helm args
  local label=$1
  shift
  if ! "$HELM" template leak "$CHART" "$@" >"$WORK/leak.yaml" 2>"$WORK/leak.err"; then
    cat "$WORK/leak.err" >&2
    fail "leak check '$label': helm template failed"
    return
  fi
  by_kind "$WORK/leak.yaml" >"$WORK/leak.tsv"
  # Credentials used by the ci values and by the sets below.
  local creds='s3cret|ci-writer-password|ci-reader-password|sk-ci-master-key'
  if grep -v -E '^Secret	' "$WORK/leak.tsv" | grep -E "$creds" >"$WORK/leak.hits"; then
    cat "$WORK/leak.hits" >&2
    fail "leak check '$label': a credential appears outside a Secret"
  elif grep -E '^(Deployment|Job)	' "$WORK/leak.tsv" | grep -E 'postgres(ql)?://' >"$WORK/leak.hits"; then
    cat "$WORK/leak.hits" >&2
    fail "leak check '$label': a database URL appears in a Deployment or Job"
  elif ! grep -qE '^(Deployment)	.*secretKeyRef' "$WORK/leak.tsv"; then
    fail "leak check '$label': the Deployment has no secretKeyRef (nothing was checked)"
  else
    echo "ok   no leak: $label"
    pass
  fi
}
for values in "$CHART"/ci/*-values.yaml; do
  leak_check "ci/$(basename "$values")" -f "$values"
done
leak_check "url + readReplicaUrlKey" "${BASE[@]}" --set db.secret.name=pg --set db.secret.readReplicaUrlKey=reader
leak_check "useExisting + plain readReplicaUrl" "${EXISTING[@]}" --set db.endpoint=pg --set db.secret.name=pg \
  --set-string "db.readReplicaUrl=$R"
leak_check "iamAuth with plain urls" "${BASE[@]}" --set-string "db.readReplicaUrl=$R" --set db.iamAuth=true \
  --set db.awsRegion=eu-west-1

# ---------------------------------------------------------------------------- 6. alert rules
# promtool checks the rule file and the PrometheusRule as the chart renders it (the same groups).
echo "== promtool check rules"
if "$ROOT/scripts/ensure-promtool.sh"; then
  PROMTOOL_BIN=${PROMTOOL:-$(command -v promtool)}
  if "$PROMTOOL_BIN" check rules "$CHART/files/tandem-alerts.yaml" >"$WORK/promtool.out" 2>&1; then
    echo "ok   promtool check rules files/tandem-alerts.yaml"
    pass
  else
    cat "$WORK/promtool.out" >&2
    fail "promtool check rules files/tandem-alerts.yaml"
  fi
  if "$HELM" template rules "$CHART" "${BASE[@]}" --set prometheusRule.enabled=true \
    --show-only templates/prometheusrule.yaml >"$WORK/rule.yaml" 2>"$WORK/rule.err" &&
    node -e '
      const { parse, stringify } = require(process.argv[1]);
      const rule = parse(require("fs").readFileSync(process.argv[2], "utf8"));
      process.stdout.write(stringify({ groups: rule.spec.groups }));
    ' "$ROOT/node_modules/yaml" "$WORK/rule.yaml" >"$WORK/rendered-rules.yaml" &&
    "$PROMTOOL_BIN" check rules "$WORK/rendered-rules.yaml" >"$WORK/promtool.out" 2>&1; then
    echo "ok   promtool check rules (the rendered PrometheusRule)"
    pass
  else
    cat "$WORK/rule.err" "$WORK/promtool.out" >&2 2>/dev/null || true
    fail "promtool check rules (the rendered PrometheusRule)"
  fi
else
  fail "promtool is not available"
fi

# ---------------------------------------------------------------------------- summary
echo
if [[ $FAILED -gt 0 ]]; then
  echo "chart-test: FAILED after $(($(date +%s) - START))s:" >&2
  printf '  - %s\n' "${FAILURES[@]}" >&2
fi
echo "chart-test: ${ut_passed} helm-unittest tests, lint + refusal + leak checks in $(($(date +%s) - START))s"
echo "chart-test: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
