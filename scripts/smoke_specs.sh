#!/usr/bin/env bash
# Every experiment spec at smoke scale (eoi run SPEC --scale smoke, seconds a run), then
# eoi report over all of them and scripts/check_report.py on the report's structure (no
# accuracy thresholds). CI runs it (.ci/run); so can anyone after scripts/setup.sh.
#
#   bash scripts/smoke_specs.sh [OUT]      records, report and figures in OUT
#                                          (build/specs-smoke); VENV=path overrides .venv
#
# efficientnet needs torchvision, which the main venv lacks beside torch 2.13.0: .ci/run
# runs it in the zoo venv into OUT/efficientnet first; here it runs only where torchvision
# imports, and its records are reported where they exist.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
OUT=${1:-build/specs-smoke}
EOI="$VENV/bin/eoi"
specs=$("$VENV/bin/python" -c \
  "from eoi_ext.lab.spec_files import spec_names; print(' '.join(spec_names()))")
reported=()
for spec in $specs; do
  if [ "$spec" = efficientnet ] && ! "$VENV/bin/python" -c "import torchvision" 2>/dev/null; then
    if compgen -G "$OUT/$spec/*.json" >/dev/null; then
      echo "== $spec: records from the zoo venv in $OUT/$spec"
      reported+=("$spec")
    else
      echo "== $spec: skipped (needs torchvision: scripts/zoo_venv.sh)"
    fi
    continue
  fi
  start=$(date +%s)
  mkdir -p "$OUT/logs"
  "$EOI" run "$spec" --scale smoke --no-progress --out "$OUT/$spec" 2> "$OUT/logs/$spec.log" \
    || { cat "$OUT/logs/$spec.log"; exit 1; }
  echo "== $spec: $(($(date +%s) - start)) s"
  reported+=("$spec")
done
dirs=()
for spec in "${reported[@]}"; do dirs+=("$OUT/$spec"); done
"$EOI" report "${dirs[@]}" --out "$OUT/report.md" > /dev/null
specs_csv=$(IFS=,; echo "${reported[*]}")
"$VENV/bin/python" scripts/check_report.py "$OUT/report.md" "${dirs[@]}" --specs "$specs_csv"
