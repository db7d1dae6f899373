# timeline.awk: turn the traces of one `make lesson-NN timeline` run into a Gantt chart's data,
# a Chrome trace and text lanes. Run by timeline.sh with
#   awk -v dir=DIR -v modes="seq conc" -v source=server|aio|both -v width=64 -f timeline.awk
# It reads, for each mode M, DIR/M.aio (the aio runtime's AIO_TRACE file: "ns event task a b")
# and DIR/M.srv (delayd's /trace: "begin_us end_us status answered path"), whichever exist and
# the source allows, and writes
#   DIR/segments.dat   gnuplot data: one block per mode (index i-1), lines
#                      "start_s end_s lane colour state" (seconds from the panel's first event)
#   DIR/panels.gp      per panel: lane count, labels (ytics), span and title, for timeline.gp
#   DIR/trace.json     the Chrome trace event format (complete events, ph "X", us)
# and prints the text lanes on stdout.
#
# Both files use CLOCK_MONOTONIC (delayd in us, the runtime in ns), so on one machine a task's
# lane and a server lane share one axis. Each panel starts at its own first event.

function seg(m, lane, s, e, st, cause,    k) {
    if (e < s) e = s
    k = ++nseg[m]
    S_lane[m, k] = lane; S_s[m, k] = s; S_e[m, k] = e; S_st[m, k] = st; S_cause[m, k] = cause
    if (!(m in t0) || s < t0[m]) t0[m] = s
    if (!(m in t1) || e > t1[m]) t1[m] = e
}

function lane_of(m, key, label) {
    if (!((m, key) in L_idx)) {
        L_idx[m, key] = ++nlane[m]
        L_label[m, nlane[m]] = label
        L_srv[m, nlane[m]] = key ~ /^s/
        if (key !~ /^s/) ntask[m]++
    }
    return L_idx[m, key]
}

# A wait's cause, as the chart groups it.
function wait_state(cause) {
    if (cause == "http" || cause == "fd" || cause == "thread") return "wait-io"
    if (cause == "timer") return "wait-timer"
    return "wait-task"
}

function close_open(m, id, t) {
    if ((m, id) in open_st) {
        seg(m, lane_of(m, "t" id, "task " id), open_s[m, id], t, open_st[m, id], open_c[m, id])
        delete open_st[m, id]
    }
}

function start_state(m, id, t, st, cause) {
    close_open(m, id, t)
    open_st[m, id] = st; open_s[m, id] = t; open_c[m, id] = cause
}

function read_aio(m, file,    line, f, n, us, ev, id, t_last, k) {
    t_last = 0
    while ((getline line < file) > 0) {
        if (line ~ /^#/) continue
        n = split(line, f, " ")
        if (n < 5) continue
        us = f[1] / 1000; ev = f[2]; id = f[3]; t_last = us
        if (ev == "spawn") {
            lane_of(m, "t" id, id == 1 ? "main (task 1)" : "task " id)
            start_state(m, id, us, "ready", "spawned")
        } else if (ev == "name") {
            L_label[m, lane_of(m, "t" id, "task " id)] = id " " f[4]
        } else if (ev == "run") {
            start_state(m, id, us, "running", "")
        } else if (ev == "yield") {
            start_state(m, id, us, "ready", "yield")
        } else if (ev == "wait") {
            start_state(m, id, us, wait_state(f[4]), f[4])
        } else if (ev == "wake") {
            if ((m, id) in open_st && open_st[m, id] ~ /^wait/)
                start_state(m, id, us, "ready", "woken")
        } else if (ev == "end") {
            close_open(m, id, us)
        } else if (ev == "idle-start") {
            idle_s[m] = us
        } else if (ev == "idle-end") {
            if (m in idle_s) seg(m, lane_of(m, "loop", "loop: idle"), idle_s[m], us, "idle", "poller")
            delete idle_s[m]
        } else if (ev == "flush") {
            seg(m, lane_of(m, "loop", "loop: idle"), us, us + f[4] / 1000, "flush", "trace written")
        } else if (ev == "http-start") {
            http_s[m, id] = us; http_p[m, id] = f[4]
        } else if (ev == "http-end") {
            if ((m, id) in http_s) {
                k = ++nhttp[m]
                H_task[m, k] = id; H_s[m, k] = http_s[m, id]; H_e[m, k] = us
                H_path[m, k] = http_p[m, id]; H_status[m, k] = f[4]
                delete http_s[m, id]
            }
        }
        events[m]++
    }
    close(file)
    for (k in open_st) {            # a task still open when the trace ended
        split(k, f, SUBSEP)
        if (f[1] == m) close_open(m, f[2], t_last)
    }
}

function read_srv(m, file,    line, f, n, i, e) {
    i = 0
    while ((getline line < file) > 0) {
        if (line ~ /^#/) {
            if (line ~ /dropped [1-9]/) dropped[m] = line
            continue
        }
        n = split(line, f, " ")
        if (n < 5) continue
        i++
        e = f[2] + 0
        srv_s[m, i] = f[1] + 0; srv_e[m, i] = e; srv_status[m, i] = f[3]; srv_path[m, i] = f[5]
        srv_ans[m, i] = f[4]
        events[m]++
    }
    close(file)
    nsrv[m] = i
}

function add_srv(m,    i, e, last, p) {
    last = (m in t1) ? t1[m] : 0
    for (i = 1; i <= nsrv[m]; i++) if (srv_e[m, i] > last) last = srv_e[m, i]
    for (i = 1; i <= nsrv[m]; i++) {
        e = srv_e[m, i] > 0 ? srv_e[m, i] : last
        p = srv_path[m, i]; sub(/[?].*/, "", p)
        seg(m, lane_of(m, "s" i, "srv " i " " p), srv_s[m, i], e,
            srv_ans[m, i] == 1 ? "server" : "server-cut", srv_path[m, i] " " srv_status[m, i])
    }
}

function colour(st) {
    if (st == "running") return "0xd62728"
    if (st == "ready") return "0xffbf00"
    if (st == "wait-io") return "0x1f77b4"
    if (st == "wait-timer") return "0x9ecae1"
    if (st == "wait-task") return "0xbcbddc"
    if (st == "server") return "0x2ca02c"
    if (st == "server-cut") return "0x98df8a"
    if (st == "idle") return "0x7f7f7f"
    return "0x000000"
}

function glyph(st) {
    if (st == "running") return "#"
    if (st == "wait-io" || st == "server") return "="
    if (st == "server-cut") return "x"
    if (st == "ready") return ":"
    if (st == "idle") return "_"
    if (st == "flush") return "!"
    return "-"
}


function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }

BEGIN {
    GLYPHS = " _-:=x!#"
    nm = split(modes, M, " ")
    span = 0
    for (i = 1; i <= nm; i++) {
        m = M[i]
        if (source != "server") read_aio(m, dir "/" m ".aio")
        if (source != "aio") { read_srv(m, dir "/" m ".srv"); add_srv(m) }
        if (!(m in t0)) { t0[m] = 0; t1[m] = 0 }
        if (t1[m] - t0[m] > span) span = t1[m] - t0[m]
        total += events[m]
    }
    if (total == 0) exit 3
    if (span <= 0) span = 1

    # gnuplot: segments and panels
    dat = dir "/segments.dat"; gp = dir "/panels.gp"
    printf "" > dat
    printf "span = %.6f\nnpanels = %d\n", span / 1e6, nm > gp
    for (i = 1; i <= nm; i++) {
        m = M[i]
        for (k = 1; k <= nseg[m]; k++)
            printf "%.6f %.6f %d %s %s\n", (S_s[m, k] - t0[m]) / 1e6, (S_e[m, k] - t0[m]) / 1e6,
                S_lane[m, k], colour(S_st[m, k]), S_st[m, k] > dat
        if (nseg[m] == 0) printf "0 0 0 0xffffff none\n" > dat
        printf "\n\n" > dat
        tics = ""
        for (l = 1; l <= nlane[m]; l++) {
            lab = substr(L_label[m, l], 1, 20); gsub(/'/, "", lab)
            tics = tics (l > 1 ? ", " : "") "'" lab "' " l
        }
        printf "lanes%d = %d\ntics%d = \"set ytics (%s)\"\ntitle%d = '%s: %d lanes, %.3f s from the first event to the last%s'\n",
            i, nlane[m], i, tics, i, m, nlane[m], (t1[m] - t0[m]) / 1e6, (m in dropped) ? " (server trace full: requests dropped)" : "" > gp
    }
    close(dat); close(gp)

    # Chrome trace event format: one process per mode, one thread per lane.
    js = dir "/trace.json"
    printf "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n" > js
    sep = ""
    for (i = 1; i <= nm; i++) {
        m = M[i]
        printf "%s{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": %d, \"tid\": 0, \"args\": {\"name\": %s}}", sep, i, jstr("mode " m) > js
        sep = ",\n"
        for (l = 1; l <= nlane[m]; l++)
            printf "%s{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": %d, \"tid\": %d, \"args\": {\"name\": %s}}", sep, i, l, jstr(L_label[m, l]) > js
        for (k = 1; k <= nseg[m]; k++)
            printf "%s{\"name\": %s, \"cat\": %s, \"ph\": \"X\", \"ts\": %.3f, \"dur\": %.3f, \"pid\": %d, \"tid\": %d, \"args\": {\"cause\": %s}}",
                sep, jstr(S_st[m, k] (S_cause[m, k] != "" && S_st[m, k] ~ /^wait/ ? ": " S_cause[m, k] : "")),
                jstr(S_st[m, k]), S_s[m, k] - t0[m], S_e[m, k] - S_s[m, k], i, S_lane[m, k],
                jstr(S_cause[m, k]) > js
        for (k = 1; k <= nhttp[m]; k++)
            if (!((m, H_task[m, k]) in named_http)) {
                named_http[m, H_task[m, k]] = 1
                printf "%s{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": %d, \"tid\": %d, \"args\": {\"name\": %s}}", sep, i, 1000 + H_task[m, k], jstr("transfers of task " H_task[m, k]) > js
            }
        for (k = 1; k <= nhttp[m]; k++)
            printf "%s{\"name\": %s, \"cat\": \"http\", \"ph\": \"X\", \"ts\": %.3f, \"dur\": %.3f, \"pid\": %d, \"tid\": %d, \"args\": {\"task\": %d, \"status\": %s}}",
                sep, jstr("GET " H_path[m, k]), H_s[m, k] - t0[m], H_e[m, k] - H_s[m, k], i,
                1000 + H_task[m, k], H_task[m, k], H_status[m, k] + 0 > js
    }
    printf "\n]}\n" > js
    close(js)

    # Text lanes: 16 columns of label, width columns of time, the same scale for every mode.
    cell = span / width
    printf "one column = %.1f ms.  # running   : ready (queued)   _ loop idle   x cut\n", cell / 1000
    printf "= waiting for I/O (transfer, descriptor), or a request in flight at the server\n- waiting for a timer, another task or a lock\n"
    for (i = 1; i <= nm; i++) {
        m = M[i]
        printf "%s (%.3f s)\n", m, (t1[m] - t0[m]) / 1e6
        # Small: the program's lanes when it has any (the server's are in the PNG), at most 16.
        shown = 0; hidden = 0
        for (l = 1; l <= nlane[m]; l++) {
            if ((ntask[m] > 0 && L_srv[m, l]) || shown == 16) { hidden++; continue }
            shown++
            # Each cell shows the state that filled most of it (a run of a few microseconds
            # does not paint a whole cell); the blank counts as a state too.
            split("", occ)
            for (k = 1; k <= nseg[m]; k++) {
                if (S_lane[m, k] != l) continue
                g = glyph(S_st[m, k])
                a = int((S_s[m, k] - t0[m]) / cell); b = int((S_e[m, k] - t0[m]) / cell)
                if (b >= width) b = width - 1
                for (c = a; c <= b; c++) {
                    lo = S_s[m, k] - t0[m]; hi = S_e[m, k] - t0[m]
                    if (lo < c * cell) lo = c * cell
                    if (hi > (c + 1) * cell) hi = (c + 1) * cell
                    if (hi > lo) occ[c, g] += hi - lo
                }
            }
            for (c = 0; c < width; c++) {
                row[c] = " "; best = 0; used = 0
                for (q = 2; q <= length(GLYPHS); q++) {
                    g = substr(GLYPHS, q, 1)
                    if (((c, g) in occ) && occ[c, g] > best) { best = occ[c, g]; row[c] = g }
                    if ((c, g) in occ) used += occ[c, g]
                }
                if (cell - used > best) row[c] = " "
            }
            line = ""
            for (c = 0; c < width; c++) line = line row[c]
            printf "%-16.16s|%s|\n", L_label[m, l], line
        }
        if (hidden > 0) printf "  (%d more lanes in the PNG)\n", hidden
    }
}
