// bench_go: the workloads of bench_aio.c written as a Go programmer would write them, with
// goroutines, channels and net/http from the standard library only; one measurement a run,
// printed as one key=value row. benchmark.mk builds it; run.sh runs it beside the others.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const requestTimeout = 30 * time.Second // one GET that takes this long means the run is broken

// What one run is asked to do, from the command line (the same options as bench_aio).
type options struct {
	n       int
	delayMS int
	conns   int
	seconds float64
	url     string
}

// warmRounds is the warm-up pass every micro-benchmark runs first: 1/10 of the rounds, at
// most limit, so first-use costs (fresh stacks, growing queues) stay out of the figure.
func warmRounds(n, limit int) int {
	if n/10 < limit {
		return n / 10
	}
	return limit
}

// perOp runs fn(rounds) on a warm-up pass, then on the measured one, and returns ns per op,
// where one round is opsPerRound operations.
func perOp(n, warmLimit int, opsPerRound float64, fn func(rounds int) error) (float64, error) {
	if err := fn(warmRounds(n, warmLimit)); err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := fn(n); err != nil {
		return 0, err
	}
	return float64(time.Since(t0).Nanoseconds()) / (opsPerRound * float64(n)), nil
}

// cpuSeconds is the user + system CPU time this process has used so far, every thread included.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// statusKiB reads one field of /proc/self/status ("VmHWM:") in KiB.
func statusKiB(key string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), key) {
			fields := strings.Fields(sc.Text()[len(key):])
			if len(fields) > 0 {
				return strconv.ParseInt(fields[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s not found in /proc/self/status", key)
}

// ---- yield_roundtrip ---------------------------------------------------------------------

// Two goroutines pass control back and forth over unbuffered channels: each send hands the
// turn to the goroutine blocked in the receive. That is how Go code gives another goroutine
// the turn; runtime.Gosched() only puts the caller on the global run queue, and with more
// than one P the other goroutine is already running in parallel, so there is no round trip
// to measure (its cost per call is printed as gosched_ns, for reference).
func yieldRoundtrip(o options) (float64, string, error) {
	pingPong := func(rounds int) error {
		ping, pong := make(chan struct{}), make(chan struct{})
		go func() {
			for i := 0; i < rounds; i++ {
				<-ping
				pong <- struct{}{}
			}
		}()
		for i := 0; i < rounds; i++ {
			ping <- struct{}{}
			<-pong
		}
		return nil
	}
	value, err := perOp(o.n, 1000, 2, pingPong)
	if err != nil {
		return 0, "", err
	}
	gosched, _ := perOp(o.n, 1000, 2, func(rounds int) error {
		var wg sync.WaitGroup
		wg.Add(2)
		for g := 0; g < 2; g++ {
			go func() {
				defer wg.Done()
				for i := 0; i < rounds; i++ {
					runtime.Gosched()
				}
			}()
		}
		wg.Wait()
		return nil
	})
	return value, fmt.Sprintf("goroutines=2 yields=%d gosched_ns=%.1f gomaxprocs=%d", 2*o.n,
		gosched, runtime.GOMAXPROCS(0)), nil
}

// ---- spawn_join --------------------------------------------------------------------------

// Start a goroutine that returns at once and wait for it (sync.WaitGroup), one after another.
func spawnJoin(o options) (float64, string, error) {
	value, err := perOp(o.n, 1000, 1, func(rounds int) error {
		var wg sync.WaitGroup
		for i := 0; i < rounds; i++ {
			wg.Add(1)
			go wg.Done()
			wg.Wait()
		}
		return nil
	})
	return value, fmt.Sprintf("rounds=%d gomaxprocs=%d", o.n, runtime.GOMAXPROCS(0)), err
}

// ---- sem_handoff -------------------------------------------------------------------------

// Two goroutines share a semaphore of one permit, the Go way: a channel with a buffer of one
// (a send takes the permit, a receive gives it back). Each takes it, yields, gives it back.
func semHandoff(o options) (float64, string, error) {
	value, err := perOp(o.n, 1000, 2, func(rounds int) error {
		sem := make(chan struct{}, 1)
		var wg sync.WaitGroup
		wg.Add(2)
		for g := 0; g < 2; g++ {
			go func() {
				defer wg.Done()
				for i := 0; i < rounds; i++ {
					sem <- struct{}{}
					runtime.Gosched()
					<-sem
				}
			}()
		}
		wg.Wait()
		return nil
	})
	return value, fmt.Sprintf("goroutines=2 handoffs=%d gomaxprocs=%d", 2*o.n, runtime.GOMAXPROCS(0)), err
}

// ---- group_gather ------------------------------------------------------------------------

// A sync.WaitGroup of 1000 goroutines that return at once, waited for; ns per goroutine.
func groupGather(o options) (float64, string, error) {
	groups := func(children int) error {
		for done := 0; done < children; done += 1000 {
			var wg sync.WaitGroup
			wg.Add(1000)
			for i := 0; i < 1000; i++ {
				go wg.Done()
			}
			wg.Wait()
		}
		return nil
	}
	children := (o.n + 999) / 1000 * 1000
	if err := groups(warmRounds(o.n, 10000)); err != nil {
		return 0, "", err
	}
	t0 := time.Now()
	if err := groups(o.n); err != nil {
		return 0, "", err
	}
	value := float64(time.Since(t0).Nanoseconds()) / float64(children)
	return value, fmt.Sprintf("children=%d per_group=1000", children), nil
}

// ---- wait_for_ready ----------------------------------------------------------------------

// Start a goroutine that returns at once and wait for it under a 1 s deadline, as Go code
// does: context.WithTimeout, a select on the result and ctx.Done(), then cancel(), which
// stops the timer. (A select on time.After would leave every 1 s timer alive until it fires.)
func waitForReady(o options) (float64, string, error) {
	value, err := perOp(o.n, 1000, 1, func(rounds int) error {
		for i := 0; i < rounds; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			done := make(chan int, 1)
			go func() { done <- 0 }()
			select {
			case <-done:
			case <-ctx.Done():
				cancel()
				return ctx.Err()
			}
			cancel()
		}
		return nil
	})
	return value, fmt.Sprintf("rounds=%d", o.n), err
}

// ---- sleep_10k_100ms ---------------------------------------------------------------------

// n goroutines each time.Sleep(delay); ms from the first `go` to the last Done, on the second
// round in the same process; the first round is reported as cold_ms.
func sleepMany(o options) (float64, string, error) {
	round := func() float64 {
		var wg sync.WaitGroup
		d := time.Duration(o.delayMS) * time.Millisecond
		t0 := time.Now()
		wg.Add(o.n)
		for i := 0; i < o.n; i++ {
			go func() {
				defer wg.Done()
				time.Sleep(d)
			}()
		}
		wg.Wait()
		return float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	cold := round()
	warm := round()
	return warm, fmt.Sprintf("tasks=%d sleep_ms=%d cold_ms=%.3f", o.n, o.delayMS, cold), nil
}

// ---- tasks_100k_rss ----------------------------------------------------------------------

// Peak RSS (VmHWM) in MiB once n goroutines are all blocked on a channel nobody sends on;
// closing it ends them (Go has no cancellation of its own: this is how it is done).
func tasksRSS(o options) (float64, string, error) {
	base, err := statusKiB("VmHWM:")
	if err != nil {
		return 0, "", err
	}
	var started int64
	var wg sync.WaitGroup
	never := make(chan struct{})
	wg.Add(o.n)
	for i := 0; i < o.n; i++ {
		go func() {
			defer wg.Done()
			atomic.AddInt64(&started, 1)
			<-never
		}()
	}
	for t0 := time.Now(); atomic.LoadInt64(&started) < int64(o.n); {
		if time.Since(t0) > 10*time.Second {
			return 0, "", fmt.Errorf("only %d of %d goroutines started", atomic.LoadInt64(&started), o.n)
		}
		time.Sleep(time.Millisecond)
	}
	hwm, err := statusKiB("VmHWM:")
	close(never)
	wg.Wait()
	if err != nil {
		return 0, "", err
	}
	return float64(hwm) / 1024, fmt.Sprintf("tasks=%d base_mib=%.1f per_task_kib=%.2f", o.n,
		float64(base)/1024, float64(hwm-base)/float64(o.n)), nil
}

// ---- HTTP --------------------------------------------------------------------------------

// newClient is one http.Client over a Transport tuned the way a Go user tunes it for many
// requests to one host: keep-alive on (the default), as many idle connections kept per host
// as there are concurrent requests (the default of 2 would close the rest after each answer),
// and no more connections than that (without MaxConnsPerHost, a request that finds no idle
// connection dials a new one even when another is about to come back: 140 to 160 connections
// for 100 loops here, the extra ones closed again).
func newClient(concurrent int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = concurrent
	t.MaxIdleConnsPerHost = concurrent
	t.MaxConnsPerHost = concurrent
	t.DialContext = (&net.Dialer{Timeout: requestTimeout, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t, Timeout: requestTimeout}
}

// getOnce GETs url, reads the body to its end and closes it (so the connection goes back to
// the pool); any status but 200 is an error.
func getOnce(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// ms until n concurrent GETs of /delay/MS, one goroutine each, are all answered.
func httpBatch(o options) (float64, string, error) {
	c := newClient(o.n)
	url := fmt.Sprintf("%s/delay/%d", o.url, o.delayMS)
	var ok int64
	errs := make(chan error, o.n)
	var wg sync.WaitGroup
	c0 := cpuSeconds()
	t0 := time.Now()
	wg.Add(o.n)
	for i := 0; i < o.n; i++ {
		go func() {
			defer wg.Done()
			if err := getOnce(c, url); err != nil {
				errs <- err
				return
			}
			atomic.AddInt64(&ok, 1)
		}()
	}
	wg.Wait()
	value := float64(time.Since(t0).Nanoseconds()) / 1e6
	cpu := cpuSeconds() - c0
	c.CloseIdleConnections()
	close(errs)
	if err := <-errs; err != nil {
		return 0, "", err
	}
	return value, fmt.Sprintf("requests=%d ok=%d delay_ms=%d cpu_s=%.3f", o.n, ok, o.delayMS, cpu), nil
}

// Requests per second of `conns` goroutines sharing one client, each GETting /bytes/0 in a
// loop until `seconds` have passed.
func httpKeepalive(o options) (float64, string, error) {
	c := newClient(o.conns)
	url := o.url + "/bytes/0"
	var done int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	stop := time.Now().Add(time.Duration(o.seconds * float64(time.Second)))
	c0 := cpuSeconds()
	t0 := time.Now()
	wg.Add(o.conns)
	for i := 0; i < o.conns; i++ {
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if err := getOnce(c, url); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				atomic.AddInt64(&done, 1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0).Seconds()
	cpu := cpuSeconds() - c0
	c.CloseIdleConnections()
	if firstErr != nil {
		return 0, "", firstErr
	}
	return float64(done) / elapsed, fmt.Sprintf("loops=%d requests=%d elapsed_s=%.3f cpu_s=%.3f",
		o.conns, done, elapsed, cpu), nil
}

// ---- the command line --------------------------------------------------------------------

type entry struct {
	fn   func(options) (float64, string, error)
	unit string
}

var benchmarks = map[string]entry{
	"yield_roundtrip":    {yieldRoundtrip, "ns"},
	"spawn_join":         {spawnJoin, "ns"},
	"sem_handoff":        {semHandoff, "ns"},
	"group_gather":       {groupGather, "ns"},
	"sleep_10k_100ms":    {sleepMany, "ms"},
	"tasks_100k_rss":     {tasksRSS, "MiB"},
	"http_1000x100ms":    {httpBatch, "ms"},
	"http_keepalive_rps": {httpKeepalive, "req/s"},
	"wait_for_ready":     {waitForReady, "ns"},
}

func usage() {
	names := make([]string, 0, len(benchmarks))
	for name := range benchmarks {
		names = append(names, name)
	}
	fmt.Fprintf(os.Stderr, "usage: bench_go BENCHMARK [--n N] [--delay MS] [--conns C] [--seconds S] "+
		"[--url http://127.0.0.1:PORT]\nbenchmarks: %s\n", strings.Join(names, " "))
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	e, known := benchmarks[name]
	if !known {
		usage()
		os.Exit(2)
	}
	var o options
	fs := flag.NewFlagSet("bench_go", flag.ContinueOnError)
	fs.IntVar(&o.n, "n", 1000, "rounds, tasks or requests")
	fs.IntVar(&o.delayMS, "delay", 100, "sleep or server delay, ms")
	fs.IntVar(&o.conns, "conns", 100, "concurrent keep-alive loops")
	fs.Float64Var(&o.seconds, "seconds", 3, "how long the keep-alive loops run")
	fs.StringVar(&o.url, "url", "", "delayd base URL")
	if err := fs.Parse(os.Args[2:]); err != nil || fs.NArg() > 0 {
		usage()
		os.Exit(2)
	}
	if o.n <= 0 || o.delayMS <= 0 || o.conns <= 0 || !(o.seconds > 0) {
		fmt.Fprintln(os.Stderr, "bench_go: --n, --delay, --conns and --seconds want positive numbers")
		os.Exit(2)
	}
	if strings.HasPrefix(name, "http_") && o.url == "" {
		fmt.Fprintf(os.Stderr, "bench_go: %s needs --url (the delayd base URL)\n", name)
		os.Exit(2)
	}
	value, extra, err := e.fn(o)
	if err == nil && !(value > 0) {
		err = errors.New("measured nothing")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench_go: %s failed: %v\n", name, err)
		os.Exit(1)
	}
	fmt.Printf("benchmark=%s impl=go value=%.6g unit=%s %s\n", name, value, e.unit, extra)
}
