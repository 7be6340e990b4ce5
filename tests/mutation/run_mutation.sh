#!/usr/bin/env bash
# Mutation testing of the code that turns samples into reported numbers (issue 26).
#
#   tests/mutation/run_mutation.sh TARGET [TARGET ...]      (TARGET: a key of the table below)
#   tests/mutation/run_mutation.sh all
#
# Each target mutates one or a few modules with mutmut 3 and runs only the fast tests that
# cover them. It works in a scratch copy (MUT_DIR, default /tmp/levydyn-mutation/TARGET), so
# the repository needs no mutmut configuration and nothing in it is touched. mutmut is not
# a dependency of levydyn: install it anywhere and point MUTMUT_PYTHONPATH at it, e.g.
#   pip install --target ~/mutmut-site mutmut && MUTMUT_PYTHONPATH=~/mutmut-site tests/...
# (keep the project's own click first on the path: mutmut pulls a newer click).
# One worker (--max-children 1): the project's machines are small and shared.
# Output per target: the score line and every surviving mutant's diff (mutmut show).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"

declare -A MUTATE TESTS
MUTATE[results]="levydyn/results.py"
TESTS[results]="tests/test_results_survival.py tests/test_results_transitions.py tests/test_censoring.py tests/test_output_files.py"
MUTATE[intervals]="levydyn/intervals.py"
TESTS[intervals]="tests/test_intervals.py tests/test_censoring.py"
MUTATE[censoring]="levydyn/censoring.py"
TESTS[censoring]="tests/test_censoring.py tests/test_results_survival.py"
MUTATE[seeding]="levydyn/seeding.py"
TESTS[seeding]="tests/test_seeding_rows.py tests/test_seeding.py"
MUTATE[theory_ball]="levydyn/theory/ball.py levydyn/theory/closed_form.py"
TESTS[theory_ball]="tests/test_theory_attractor_ball.py tests/test_theory_closed_form.py"
MUTATE[theory_box]="levydyn/theory/box.py levydyn/theory/exit_interval.py"
TESTS[theory_box]="tests/test_theory_box.py tests/test_theory_exit_interval.py tests/test_theory_box_interval_values.py"
MUTATE[levy_measure]="levydyn/theory/levy_measure.py"
TESTS[levy_measure]="tests/test_theory_levy_measure.py tests/test_theory_levy_measure_values.py"
MUTATE[stability]="levydyn/kesten/stability.py"
TESTS[stability]="tests/test_kesten_first_root.py tests/test_kesten_cloning_range.py tests/test_kesten.py"
# the same module against its fast tests only (test_kesten.py and the cloning-range test
# run Monte Carlo for minutes on a loaded 2-core machine)
MUTATE[stability_fast]="levydyn/kesten/stability.py"
TESTS[stability_fast]="tests/test_kesten_first_root.py"
MUTATE[hill]="levydyn/estimators/hill.py"
TESTS[hill]="tests/test_estimators_hill.py"
MUTATE[verdict]="nn_bridge/escape/verdict.py"
TESTS[verdict]="tests/nn_bridge/test_escape_verdict.py"

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && { echo "usage: $0 TARGET... | all  (targets: ${!MUTATE[*]})" >&2; exit 2; }
[[ ${targets[0]} == all ]] && targets=("${!MUTATE[@]}")

for t in "${targets[@]}"; do
  [[ -n ${MUTATE[$t]:-} ]] || { echo "unknown target $t (known: ${!MUTATE[*]})" >&2; exit 2; }
  dir="${MUT_DIR:-/tmp/levydyn-mutation}/$t"
  rm -rf "$dir" && mkdir -p "$dir"
  cp -r "$REPO"/{levydyn,cli,nn_bridge,tests} "$dir"/
  {
    echo "[mutmut]"
    echo "source_paths ="; echo "    levydyn/"; echo "    nn_bridge/"
    echo "only_mutate ="; for m in ${MUTATE[$t]}; do echo "    $m"; done
    echo "pytest_add_cli_args_test_selection ="; for f in ${TESTS[$t]}; do echo "    $f"; done
    echo "pytest_add_cli_args = -p no:cacheprovider -x -q"
    echo "timeout_multiplier = 50.0"
    echo "also_copy ="; echo "    cli/"
  } > "$dir/setup.cfg"
  (
    cd "$dir"
    export PYTHONPATH="${MUTMUT_PYTHONPATH:-}"   # mutmut puts its mutants/ copy first
    python -m mutmut run --max-children 1 > run.log 2>&1 || true
    python -m mutmut results --all true > results.txt 2>&1 || true
    total=$(grep -c ': ' results.txt || true)
    killed=$(grep -c ': killed$' results.txt || true)
    echo "== $t (${MUTATE[$t]}): killed $killed of $total mutants"
    grep -v ': killed$' results.txt || true
    for m in $(grep -E ': (survived|no tests|suspicious|timeout)$' results.txt | cut -d: -f1); do
      python -m mutmut show "$m" 2>/dev/null | tail -n +2
    done
  )
done
