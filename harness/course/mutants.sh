#!/usr/bin/env bash
# `make mutants [LESSON=NN]`: a mutation sweep of the reference solutions. Each mutant is the
# solution with one small change (a comparison, a constant, a deleted or moved statement, an
# early return...); it is built with the lesson's tests and killed when any test fails, crashes or
# times out. A mutant that survives shows a wrong program the tests cannot tell from a right one.
# See harness/README.md ("Mutation sweep") for the operators, the ids and solutions/NN/mutants.txt.
#
#   harness/course/mutants.sh [NN ...]     no NN: every lesson
#   MUTANTS_OPS="rel eq"  operators to apply (default: all of rel flip eq neg logic const bound
#                         del swap ret)
#   MUTANTS_MAX=N         a sample of N mutants a lesson (MUTANTS_SEED=S picks which; default 1)
#   MUTANTS_MIN=P         exit non-zero when a lesson scores below P% (default 90)
#   MUTANTS_JOBS=J        mutants built and tested at a time (default 2)
#   MUTANTS_TIMEOUT=T     seconds a mutant's whole test run may take (default 90)
#   MUTANTS_RECHECK=1     also run the mutants marked equivalent, and warn when one is killed
set -uo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/../.." || exit 2
. harness/lib.sh

ALL_OPS="rel flip eq neg logic const bound del swap ret"
OPS=${MUTANTS_OPS:-$ALL_OPS}
MAX=${MUTANTS_MAX:-0}
SEED=${MUTANTS_SEED:-1}
MIN=${MUTANTS_MIN:-90}
JOBS=${MUTANTS_JOBS:-2}
LIMIT=${MUTANTS_TIMEOUT:-90}
ROOT=build/mutants

# ---- the mutant generator (perl, line based) ---------------------------------------------------
# perl -e "$GENERATE" OUTDIR "OPS" FILE...: writes OUTDIR/N (the mutated file) and a line
# "N <tab> ID <tab> FILE <tab> ONE-LINE DIFF" in OUTDIR/index.tsv for every mutant. IDs are
# FILE:LINE:OPERATOR:K, K counting that operator's mutants on that line from 1, so they stay the
# same from run to run while the source does. Comments, strings and preprocessor lines are never
# touched; a mutant whose file text equals an earlier one is dropped.
read -r -d '' GENERATE <<'PERL'
use strict;
use warnings;

my ($outdir, $ops, @files) = @ARGV;
my %want = map { $_ => 1 } split /[\s,]+/, $ops;
my $seq = 0;
my %seen;
open my $index, '>', "$outdir/index.tsv" or die "index: $!";

sub trim { my $s = shift; $s =~ s/^\s+|\s+$//g; return $s; }

# The code of each line with comments, string and character contents blanked and preprocessor
# lines emptied, same length as the line, so positions found in it apply to the real line.
sub masks {
    my @lines = @_;
    my @out;
    my $comment = 0;
    my $pp = 0;
    for my $line (@lines) {
        my $m = '';
        my $body = $line;
        chomp $body;
        if ($pp || (!$comment && $body =~ /^\s*#/)) {
            $pp = $body =~ /\\$/ ? 1 : 0;
            push @out, ' ' x length $body;
            next;
        }
        my $i = 0;
        my $n = length $body;
        while ($i < $n) {
            my $c = substr($body, $i, 1);
            my $two = substr($body, $i, 2);
            if ($comment) {
                if ($two eq '*/') { $m .= '  '; $i += 2; $comment = 0; }
                else { $m .= ' '; $i++; }
            } elsif ($two eq '/*') {
                $m .= '  '; $i += 2; $comment = 1;
            } elsif ($two eq '//') {
                $m .= ' ' x ($n - $i); $i = $n;
            } elsif ($c eq '"' || $c eq "'") {
                my $j = $i + 1;
                while ($j < $n && substr($body, $j, 1) ne $c) { $j += substr($body, $j, 1) eq '\\' ? 2 : 1; }
                $j = $n - 1 if $j >= $n;
                $m .= $c . (' ' x ($j - $i - 1)) . $c;
                $i = $j + 1;
            } else {
                $m .= $c; $i++;
            }
        }
        push @out, $m;
    }
    return @out;
}

# The index just past the parenthesis that closes the one at $open in $s, or -1.
sub close_paren {
    my ($s, $open) = @_;
    my $depth = 0;
    for (my $i = $open; $i < length $s; $i++) {
        my $c = substr($s, $i, 1);
        $depth++ if $c eq '(';
        $depth-- if $c eq ')';
        return $i + 1 if $depth == 0;
    }
    return -1;
}

my $KEYWORDS = qr/^(?:return|goto|break|continue|if|else|while|for|do|switch|case|default|sizeof)$/;

# A declaration: a type name, then (after spaces or stars) the declared name.
sub is_declaration {
    my $code = trim(shift);
    $code =~ s/^(?:(?:static|const|volatile|unsigned|signed|struct|union|enum)\s+)+//;
    return 0 unless $code =~ /^([A-Za-z_]\w*)[\s*]+[A-Za-z_]\w*\s*(?:[=;\[,])/;
    return $1 !~ $KEYWORDS;
}

# One complete statement on one line: ends with ';', parentheses balanced, not a block's end.
sub is_statement {
    my $code = trim(shift);
    return 0 unless $code =~ /;$/ && $code !~ /^[{}]/ && $code !~ /^(?:for|if|while|else|case|default)\b/;
    my $open = () = $code =~ /\(/g;
    my $close = () = $code =~ /\)/g;
    return $open == $close;
}

sub emit {
    my ($file, $lines, $lineno, $op, $k, $newlines, $desc) = @_;
    my $text = join '', @$newlines;
    return if $seen{"$file\0$text"}++;
    $seq++;
    open my $out, '>', "$outdir/$seq" or die "$outdir/$seq: $!";
    print $out $text;
    close $out;
    $desc =~ s/\t/ /g;
    print $index join("\t", $seq, "$file:$lineno:$op:$k", $file, $desc), "\n";
}

# Replace columns [$from, $to) of line $ln (0-based) by $new; returns the new lines.
sub splice_line {
    my ($lines, $ln, $from, $to, $new) = @_;
    my @copy = @$lines;
    my $l = $copy[$ln];
    substr($l, $from, $to - $from) = $new;
    $copy[$ln] = $l;
    return \@copy;
}

for my $path (@files) {
    (my $file = $path) =~ s{.*/}{};
    open my $in, '<', $path or die "$path: $!";
    my @lines = <$in>;
    close $in;
    my @mask = masks(@lines);
    my $n = scalar @lines;

    # Per line: brace depth at its start, whether it starts a statement, the function's kind.
    my (@depth, @starts, @fvoid, @prevend);
    my $depth = 0;
    my $header = '';
    my $isvoid = 0;
    my $prev = '{';
    for my $i (0 .. $n - 1) {
        my $code = trim($mask[$i]);
        $depth[$i] = $depth;
        $prevend[$i] = $prev;
        $fvoid[$i] = $isvoid;
        for my $c (split //, $mask[$i]) {
            if ($c eq '{') {
                if ($depth == 0 && $header =~ /\(/) {
                    my ($type) = $header =~ /^(.*?)[A-Za-z_]\w*\s*\(/s;
                    $isvoid = (defined $type && $type =~ /\bvoid\s*$/) ? 1 : 0;
                }
                $depth++;
                $header = '';
            } elsif ($c eq '}') {
                $depth-- if $depth > 0;
                $header = '';
            } elsif ($c eq ';' && $depth == 0) {
                $header = '';
            } elsif ($depth == 0) {
                $header .= $c;
            }
        }
        $fvoid[$i] = $isvoid if $depth[$i] == 0;
        $prev = $code if $code ne '';
    }

    for my $i (0 .. $n - 1) {
        my $m = $mask[$i];
        my $code = trim($m);
        next if $code eq '';
        my $orig = trim($lines[$i]);
        my $ln = $i + 1;
        my %k;
        my $one = sub {
            my ($op, $from, $to, $new) = @_;
            my $newlines = splice_line(\@lines, $i, $from, $to, $new);
            emit($file, \@lines, $ln, $op, ++$k{$op}, $newlines, "$orig  =>  " . trim($newlines->[$i]));
        };

        # Operators, found in the masked line: rel, flip, eq, logic.
        while ($m =~ /(<<=?|>>=?|->|<=|>=|==|!=|&&|\|\||<|>)/g) {
            my ($tok, $to) = ($1, pos $m);
            my $from = $to - length $tok;
            my %rel = ('<' => '<=', '<=' => '<', '>' => '>=', '>=' => '>');
            my %flip = ('<' => '>', '<=' => '>=', '>' => '<', '>=' => '<=');
            my %eq = ('==' => '!=', '!=' => '==');
            my %logic = ('&&' => '||', '||' => '&&');
            $one->('rel', $from, $to, $rel{$tok}) if $want{rel} && $rel{$tok};
            $one->('flip', $from, $to, $flip{$tok}) if $want{flip} && $flip{$tok};
            $one->('eq', $from, $to, $eq{$tok}) if $want{eq} && $eq{$tok};
            $one->('logic', $from, $to, $logic{$tok}) if $want{logic} && $logic{$tok};
        }

        # Conditions of if, while and for: neg (negated), bound (right side of a comparison +-1).
        while ($m =~ /\b(if|while|for)\s*\(/g) {
            my $kw = $1;
            my $open = pos($m) - 1;
            my $close = close_paren($m, $open);
            next if $close < 0;
            my ($cfrom, $cto) = ($open + 1, $close - 1);
            if ($kw eq 'for') {
                my $inner = substr($m, $cfrom, $cto - $cfrom);
                my @semi;
                push @semi, $-[0] while $inner =~ /;/g;
                next unless @semi == 2;
                ($cfrom, $cto) = ($cfrom + $semi[0] + 1, $cfrom + $semi[1]);
            }
            my $cond = substr($m, $cfrom, $cto - $cfrom);
            next if trim($cond) eq '';
            $cond =~ /^(\s*)(.*?)(\s*)$/;
            ($cfrom, $cto) = ($cfrom + length $1, $cto - length $3);
            my $c = substr($lines[$i], $cfrom, $cto - $cfrom);
            if ($want{neg}) {
                my $mc = substr($m, $cfrom, $cto - $cfrom);
                my $neg;
                if ($mc =~ /^!\s*[A-Za-z_]\w*(?:(?:->|\.)[A-Za-z_]\w*)*$/) {
                    ($neg = $c) =~ s/^!\s*//;
                } elsif ($mc =~ /^!\s*[A-Za-z_]\w*\s*\(/ && close_paren($mc, index($mc, '(')) == length $mc) {
                    ($neg = $c) =~ s/^!\s*//;
                } else {
                    $neg = "!($c)";
                }
                $one->('neg', $cfrom, $cto, $neg);
            }
            next unless $want{bound} && $kw ne 'if';
            my $mc = substr($m, $cfrom, $cto - $cfrom);
            while ($mc =~ /(?<![<>\-=!])(<=|>=|<|>)(?![<>=])(\s*)/g) {
                my $start = pos $mc;
                next if substr($mc, $start - length($1) - length($2) - 1, 1) eq '-';
                my $rest = substr($mc, $start);
                next unless $rest =~ /^([A-Za-z_]\w*)/;    # a literal is const's business
                my $end = $start + length $1;
                while (1) {
                    my $r = substr($mc, $end);
                    if ($r =~ /^(?:->|\.)[A-Za-z_]\w*/) { $end += $+[0]; next; }
                    if ($r =~ /^[\[(]/) {
                        my $o = substr($r, 0, 1);
                        my $cl = $o eq '(' ? ')' : ']';
                        my $d = 0; my $j = 0;
                        for (; $j < length $r; $j++) {
                            my $ch = substr($r, $j, 1);
                            $d++ if $ch eq $o;
                            $d-- if $ch eq $cl;
                            last if $d == 0;
                        }
                        last if $j >= length $r;
                        $end += $j + 1;
                        next;
                    }
                    last;
                }
                my $at = $cfrom + $end;
                $one->('bound', $at, $at, ' + 1');
                $one->('bound', $at, $at, ' - 1');
            }
        }

        # const: integer literals (0 <-> 1, n -> n+1, n -> n-1) and true <-> false.
        if ($want{const}) {
            while ($m =~ /(?<![\w.])(\d+)([uUlL]*)(?![\w.])|\b(true|false)\b/g) {
                my $to = pos $m;
                my $from = $-[0];
                if (defined $3) {
                    $one->('const', $from, $to, $3 eq 'true' ? 'false' : 'true');
                    next;
                }
                my ($v, $suffix) = ($1, $2);
                next if length $v > 1 && $v =~ /^0/;    # octal: leave alone
                # A unary minus belongs to the literal: -1 becomes 0 and -2.
                if (substr($m, 0, $from) =~ /(?:^|[(,=?:\[{]|\breturn)\s*(-\s*)$/) {
                    $from -= length $1;
                    $v = -$v;
                }
                my @new = $v == 0 ? (1) : $v == 1 ? (0, 2) : ($v + 1, $v - 1);
                $one->('const', $from, $to, "$_$suffix") for @new;
            }
        }

        my $start = $depth[$i] >= 1 && $prevend[$i] =~ /[;{}:]$/ && $code !~ /^(?:[{}]|else\b|case\b|default\b)/
            && $code !~ /^[A-Za-z_]\w*\s*:(?!:)/;
        my $indent = ($lines[$i] =~ /^(\s*)/)[0];
        my $eol = $lines[$i] =~ /\n$/ ? "\n" : '';

        # del: a whole one-line statement, declarations aside, becomes an empty block.
        my $stmt = $depth[$i] >= 1 && is_statement($m) && !is_declaration($m)
            && ($start || $prevend[$i] =~ /(?:\)|\belse)$/);
        if ($want{del} && $stmt) {
            my $next = '';
            for my $j ($i + 1 .. $n - 1) { $next = trim($mask[$j]); last if $next ne ''; }
            my $last_return = $code =~ /^return\b/ && $next eq '}' && $depth[$i] == 1 && !$fvoid[$i];
            unless ($last_return) {
                my @copy = @lines;
                $copy[$i] = "${indent}{ }$eol";
                emit($file, \@lines, $ln, 'del', ++$k{del}, \@copy, "$orig  =>  { }");
            }
        }

        # swap: this statement and the next one, both one line, same indentation, at a statement
        # start; declarations with an initializer count, bare declarations do not.
        if ($want{swap} && $start && $depth[$i] >= 1 && is_statement($m)
            && !(is_declaration($m) && $code !~ /=/)) {
            my $j = $i + 1;
            $j++ while $j < $n && trim($mask[$j]) eq '';
            if ($j < $n) {
                my $mj = $mask[$j];
                my $indj = ($lines[$j] =~ /^(\s*)/)[0];
                if ($indj eq $indent && is_statement($mj) && $code !~ /^return\b/
                    && !(is_declaration($mj) && trim($mj) !~ /=/)) {
                    my @copy = @lines;
                    @copy[$i, $j] = @lines[$j, $i];
                    emit($file, \@lines, $ln, 'swap', ++$k{swap}, \@copy,
                         "swap  $orig  <->  " . trim($lines[$j]));
                }
            }
        }

        # ret: an early return of the function's success value (0, or nothing in a void function)
        # before a statement, unless that statement already returns the same, or is a declaration
        # without a call (returning before it is returning before the next statement).
        if ($want{ret} && $start && $code !~ /^return\s*(?:0\s*)?;$/
            && !(is_declaration($m) && $code !~ /=.*\(/)) {
            my $r = $fvoid[$i] ? 'return;' : 'return 0;';
            my @copy = @lines;
            $copy[$i] = "$indent$r " . substr($lines[$i], length $indent);
            emit($file, \@lines, $ln, 'ret', ++$k{ret}, \@copy, "$orig  =>  $r $orig");
        }
    }
}
close $index;
PERL

m() { make -s --no-print-directory "$@"; }
# v NAME [NN] [make settings...]: one of the course's or a lesson's variables (harness/lib.sh kit_vars).
v() { local k=$1; shift; ( kit_vars "$@" && printf '%s' "${!k}" ); }

# ---- one mutant: --one NN NAME DIR SEQ ---------------------------------------------------------
# Builds the solution with mutant SEQ of DIR (0: none) in a scratch copy, runs the tests, writes
# "STATUS <tab> SECONDS <tab> DETAIL" to DIR/res/SEQ, and removes the copy and its build folder.
one() {
  local n=$1 name=$2 dir=$3 seq=$4 file work bin vdir log rc status detail t0
  t0=$(date +%s.%N)
  work=$dir/work/$seq
  log=$dir/work/$seq.log
  rm -rf "$work" && mkdir -p "$work"
  cp -r "solutions/$name/." "$work/" && rm -rf "$work/mistakes" "$work/mutants.txt"
  if [ "$seq" != 0 ]; then
    file=$(awk -F'\t' -v s="$seq" '$1 == s { print $3 }' "$dir/gen/index.tsv")
    cp "$dir/gen/$seq" "$work/$file"
  fi
  bin=$(v TEST_BIN "$n" SOLUTION=1 FROM="$work")
  vdir=$(dirname "$(dirname "$bin")")
  if ! m lesson-$n build-tests SOLUTION=1 FROM="$work" >"$log" 2>&1; then
    status=stillborn
    detail=$(grep -a -m1 -E 'error:' "$log" | sed 's/.*error: *//')
  else
    KIT_SUITE_LIMIT=$LIMIT kit_run_tests "$bin" "$log" --fail-fast
    rc=$?
    if [ "$rc" -eq 0 ] && [ "$SYNTHESIS" -eq 1 ] && [ "$TESTED" -gt 0 ] && [ "$PASSING" -eq "$TESTED" ]; then
      status=survived
      detail="all $TESTED tests pass"
    else
      status=killed
      if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        detail="timed out after ${LIMIT}s"
      else
        # The first test that failed, and the first diagnostic id it printed.
        detail=$(grep -a -m1 -oE '^\[(FAIL|CRASH|TIMEOUT|ERR)[^]]*\] *[A-Za-z0-9_]+::[A-Za-z0-9_]+' "$log" | sed -E 's/^\[[A-Z]+\] *//')
        local diag
        diag=$(grep -a -oE '\[[a-z0-9]+(-[a-z0-9]+)*\]' "$log" | grep -v -E '^\[(----|fail|pass|crash|timeout|err)\]$' | head -n 1)
        grep -aq 'Timed out' "$log" && detail="${detail:-a test} timed out"
        [ -z "$diag" ] && grep -aq -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log" && diag="(a sanitizer report)"
        detail="${detail:-exit $rc}${diag:+ $diag}"
      fi
    fi
  fi
  rm -rf "$work" "$log" "$vdir"
  printf '%s\t%.1f\t%s\n' "$status" "$(echo "$(date +%s.%N) - $t0" | bc)" "$detail" >"$dir/res/$seq"
}

if [ "${1:-}" = --one ]; then
  shift
  one "$@"
  exit 0
fi

# ---- the sweep --------------------------------------------------------------------------------
fmt_time() { local s=${1%.*}; printf '%dm%02ds' $((s / 60)) $((s % 60)); }
pct() { awk -v k="$1" -v d="$2" 'BEGIN { if (d > 0) printf "%.1f", 100 * k / d; else printf "n/a" }'; }
plural() { [ "$1" -eq 1 ] && echo "$1 $2" || echo "$1 ${2}s"; }

lessons=()
all=$(v LESSONS)
if [ $# -eq 0 ]; then
  for l in $all; do lessons+=("${l%%-*}"); done
else
  for a in "$@"; do
    a=$(printf '%02d' "$((10#$a))" 2>/dev/null) || a=x
    grep -qw -- "$a-[a-z0-9-]*" <<<"$all" || { echo "[no-lesson] there is no lesson '$a'; the lessons are: $all" >&2; exit 2; }
    lessons+=("$a")
  done
fi
for op in $OPS; do
  grep -qw -- "$op" <<<"$ALL_OPS" || { echo "[unknown-operator] MUTANTS_OPS names '$op'; the operators are: $ALL_OPS" >&2; exit 2; }
done

cleanup() {
  # Scratch copies and their build folders; results stay in build/mutants/NN/.
  local d
  if [ -n "${xpid:-}" ] && kill -0 "$xpid" 2>/dev/null; then
    # The workers first (each ends its own test run within MUTANTS_TIMEOUT), then xargs.
    kill $(ps -o pid= --ppid "$xpid") "$xpid" 2>/dev/null
    wait "$xpid" 2>/dev/null
  fi
  # Only this sweep's lessons: another sweep may be running on other lessons.
  for d in "${lessons[@]}"; do
    rm -rf "$ROOT/$d/work" build/*/solution-from_*_build_mutants_"$d"_work_* 2>/dev/null
  done
  kit_cleanup
}
trap cleanup EXIT

export KIT_DELAYD LIMIT
tot_k=0 tot_m=0 tot_s=0 tot_e=0 low=0 sweep_t0=$(date +%s)
for n in "${lessons[@]}"; do
  name=$(grep -o -- "$n-[a-z0-9-]*" <<<"$all" | head -n 1)
  dir=$ROOT/$n
  rm -rf "$dir" && mkdir -p "$dir/gen" "$dir/res" "$dir/work"
  t0=$(date +%s)

  # The solution's own build, so that parallel mutant builds only compile their copy.
  if ! m lesson-$n build-tests SOLUTION=1 >"$dir/solution-build.log" 2>&1; then
    echo "[solution-broken] lesson $n: the reference solution does not build (see $dir/solution-build.log); no sweep."
    low=1; continue
  fi
  # Mutant 0 is the solution itself, through the same copy-build-run path: it must survive.
  one "$n" "$name" "$dir" 0
  IFS=$'\t' read -r status secs detail <"$dir/res/0"
  if [ "$status" != survived ]; then
    echo "[solution-fails] lesson $n: the unchanged reference solution does not pass its tests in the sweep ($status: $detail); no sweep."
    low=1; continue
  fi

  read -r -a exercise <<<"$(v EXERCISE "$n")"
  perl -e "$GENERATE" "$dir/gen" "$OPS" "${exercise[@]/#/solutions/$name/}" || { echo "lesson $n: the generator failed" >&2; exit 2; }

  # Marks: "ID  equivalent: reason" or "ID  killed-by: test".
  marks=solutions/$name/mutants.txt
  declare -A equiv=() killedby=()
  if [ -f "$marks" ]; then
    while read -r id kind rest; do
      case $id in ''|\#*) continue ;; esac
      case $kind in
        equivalent:) equiv[$id]=$rest ;;
        killed-by:) killedby[$id]=$rest ;;
        *) echo "[bad-mark] $marks: '$id $kind $rest': the second word must be 'equivalent:' or 'killed-by:'" >&2 ;;
      esac
      op=$(cut -d: -f3 <<<"$id")
      grep -qw -- "$op" <<<"$OPS" || continue    # an operator this sweep does not apply
      cut -f2 "$dir/gen/index.tsv" | grep -qxF -- "$id" ||
        echo "[stale-mark] $marks names $id, which is no mutant of the current solution (has the line moved?)" >&2
    done <"$marks"
  fi

  # The sample, then the mutants to run (equivalent ones only with MUTANTS_RECHECK=1).
  cut -f1 "$dir/gen/index.tsv" >"$dir/all.txt"
  if [ "$MAX" -gt 0 ]; then
    perl -e 'srand($ARGV[0]); my @a = <STDIN>; for (my $i = @a - 1; $i > 0; $i--) { my $j = int rand($i + 1); @a[$i, $j] = @a[$j, $i]; } print sort { $a <=> $b } grep { defined } @a[0 .. $ARGV[1] - 1];' \
      "$SEED" "$MAX" <"$dir/all.txt" >"$dir/sample.txt"
  else
    cp "$dir/all.txt" "$dir/sample.txt"
  fi
  : >"$dir/run.txt"
  while read -r seq; do
    id=$(awk -F'\t' -v s="$seq" '$1 == s { print $2 }' "$dir/gen/index.tsv")
    if [ -n "${equiv[$id]:-}" ] && [ "${MUTANTS_RECHECK:-0}" != 1 ]; then continue; fi
    echo "$seq" >>"$dir/run.txt"
  done <"$dir/sample.txt"
  total=$(wc -l <"$dir/sample.txt")
  torun=$(wc -l <"$dir/run.txt")
  echo "lesson $n ($name): $(plural "$total" mutant) of $(wc -l <"$dir/all.txt") (operators: $OPS), $torun to run, $JOBS at a time; one took ${secs}s alone"

  # Run them, $JOBS at a time; a progress line every tenth on stderr.
  step=$(( torun / 10 )); [ "$step" -gt 0 ] || step=1
  xargs -a "$dir/run.txt" -P "$JOBS" -I{} "$SELF" --one "$n" "$name" "$dir" {} &
  xpid=$!
  while kill -0 "$xpid" 2>/dev/null; do
    sleep 2
    done_now=$(ls "$dir/res" | wc -l); done_now=$((done_now - 1))
    if [ $((done_now / step)) -gt "${shown:-0}" ]; then
      shown=$((done_now / step))
      echo "  ... $done_now of $torun done ($(fmt_time $(( $(date +%s) - t0 ))))" >&2
    fi
  done
  wait "$xpid"
  shown=0

  # Tally, survivors with their diffs, and a results table.
  k=0 s=0 e=0 sv=0
  : >"$dir/survivors.txt"
  printf '# id\tstatus\tseconds\tdetail\n' >"$dir/results.tsv"
  survivors=()
  while IFS=$'\t' read -r seq id file desc; do
    grep -qx "$seq" "$dir/sample.txt" || continue
    if [ -n "${equiv[$id]:-}" ]; then
      e=$((e + 1))
      if [ -f "$dir/res/$seq" ]; then
        IFS=$'\t' read -r status secs detail <"$dir/res/$seq"
        [ "$status" = killed ] && echo "[not-equivalent] $id is marked equivalent in $marks, but the tests kill it: $detail" >&2
        printf '%s\t%s\t%s\t%s\n' "$id" "equivalent ($status)" "$secs" "${equiv[$id]}" >>"$dir/results.tsv"
      else
        printf '%s\t%s\t%s\t%s\n' "$id" equivalent - "${equiv[$id]}" >>"$dir/results.tsv"
      fi
      continue
    fi
    if [ ! -f "$dir/res/$seq" ]; then
      echo "[no-result] $id left no result (was the sweep interrupted?)" >&2
      continue
    fi
    IFS=$'\t' read -r status secs detail <"$dir/res/$seq"
    printf '%s\t%s\t%s\t%s\n' "$id" "$status" "$secs" "$detail" >>"$dir/results.tsv"
    case $status in
      killed) k=$((k + 1)) ;;
      stillborn) s=$((s + 1)) ;;
      survived)
        sv=$((sv + 1))
        note=${killedby[$id]:+  (mutants.txt says killed by ${killedby[$id]})}
        survivors+=("  $id  $desc$note")
        {
          echo "== $id$note"
          diff -u --label "a/$file" --label "b/$file" "solutions/$name/$file" "$dir/gen/$seq"
          echo
        } >>"$dir/survivors.txt"
        ;;
    esac
  done <"$dir/gen/index.tsv"
  secs_all=$(( $(date +%s) - t0 ))
  if [ ${#survivors[@]} -gt 0 ]; then
    [ ${#survivors[@]} -eq 1 ] && word=mutant || word=mutants
    echo "lesson $n: ${#survivors[@]} surviving $word (full diffs in $dir/survivors.txt):"
    printf '%s\n' "${survivors[@]}"
  fi
  score=$(pct "$k" $((total - s - e)))
  echo "lesson $n: $(plural "$torun" mutant) built and tested in $(fmt_time "$secs_all"); results in $dir/results.tsv"
  echo "lesson $n: $k killed of $total ($s stillborn, $e equivalent): score $score%"
  if [ "$score" != n/a ] && awk -v p="$score" -v min="$MIN" 'BEGIN { exit !(p < min) }'; then low=1; fi
  tot_k=$((tot_k + k)) tot_m=$((tot_m + total)) tot_s=$((tot_s + s)) tot_e=$((tot_e + e))
  rm -rf "$dir/gen" "$dir/work" "$dir/res" "$dir/all.txt" "$dir/run.txt"
  unset equiv killedby
done

# The real solution files must be as they were: the sweep only ever writes into copies.
if git rev-parse --git-dir >/dev/null 2>&1; then
  changed=$(git status --porcelain -- solutions lessons | grep -v '^??' || true)
  if [ -n "$changed" ]; then
    echo "[solutions-touched] the sweep found changes under solutions/ or lessons/:" >&2
    echo "$changed" >&2
    low=1
  fi
fi
echo "all lessons: $tot_k killed of $tot_m ($tot_s stillborn, $tot_e equivalent): score $(pct "$tot_k" $((tot_m - tot_s - tot_e)))% in $(fmt_time $(( $(date +%s) - sweep_t0 )))"
[ "$low" -eq 0 ] || exit 1
