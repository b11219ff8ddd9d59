// Command go-target is a real Go process for kubectl-profefe tests.
//
// Without arguments it serves net/http/pprof next to a small, steady workload
// whose function names tests can look for:
//
//	go-target [-addr 127.0.0.1:0] [-load 1] [-hot-load 0] [-legacy-seconds] [-write-timeout D]
//	          [-dump DIR] [-grow-chunk BYTES] [-grow-every D] [-mem-profile-rate N]
//	          [-block-profile-rate N] [-mutex-profile-fraction N]
//
// It prints exactly one line, "listening on HOST:PORT", once it accepts
// connections. -hot-load F makes it "a build that spends more CPU in one
// function": each round of the CPU workload also runs main.hotPath for F times
// main.hashWork's time (0, the default: never; the rest of the workload is the
// same either way). -legacy-seconds makes it answer /debug/pprof/<name>?seconds=N
// like Go before 1.16: the cumulative profile at once, the parameter ignored.
// -write-timeout sets the server's WriteTimeout, which net/http/pprof answers
// with a 400 for a delta window of at least that long.
// -dump DIR writes a copy of every allocs, block, mutex and heap profile it
// serves to DIR/<name>-<NNN>.pb.gz (numbered from 001 per name) before it
// sends it, so tests can hand the very bytes to go tool pprof.
//
// It can also leak, as a service with a memory leak would: POST
// /debug/grow?chunks=N allocates N chunks of -grow-chunk bytes (default 1 MiB)
// in main.growLeak and keeps them reachable for good, answering the bytes now
// held as a decimal line; -grow-every D also calls growLeak(1) every D.
// -mem-profile-rate sets runtime.MemProfileRate before any workload starts
// (default 16384, this target's usual; 1 records every allocation exactly).
// -block-profile-rate and -mutex-profile-fraction (default 1 each: every event)
// are passed to runtime.SetBlockProfileRate and SetMutexProfileFraction; 0
// leaves them off, as Go does by default, so block and mutex profiles are empty.
//
// The scale subcommand reads lines "V RATIO" (an int64 and a float64) and
// prints int64(math.Round(float64(V)*RATIO)) for each, as google/pprof's
// Profile.ScaleN computes a scaled sample value:
//
//	go-target scale
//
// The gen subcommand writes many real runtime/pprof profiles whose stacks vary
// from one profile to the next, as input for benchmarks:
//
//	go-target gen -kind cpu|heap -n N -out DIR [-seed S] [-cpu-ms 100]
//	              [-hz 250] [-workers 2] [-jobs 2]
//
// It prints the path of each profile it writes, one per line.
//
// The derive subcommand writes n profiles made from the real ones in -from
// (read in name order): profile i is real profile i mod R (R of them) with its
// samples varied by a generator seeded with -seed and i, so that benchmarks
// get thousands of distinct profiles in seconds instead of paying a CPU-time
// budget for each (see deriveProfile for what changes and what stays real):
//
//	go-target derive -from DIR -n N -out DIR [-seed S]
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "scale" {
		if err := scaleLines(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "go-target scale:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "derive" {
		if err := derive(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "go-target derive:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "gen" {
		if err := gen(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "go-target gen:", err)
			os.Exit(1)
		}
		return
	}
	serve()
}

// sink keeps the compiler from discarding the results of the busy work.
var sink uint64

func consume(v uint64) { atomic.AddUint64(&sink, v) }

// ---------------------------------------------------------------------------
// Serve mode.

func serve() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	load := flag.Float64("load", 1, "fraction of the default CPU workload (0: idle, for benchmarks that run many targets)")
	flag.Float64Var(&hotLoad, "hot-load", 0, "also run main.hotPath for this many times main.hashWork's time in each round of the CPU workload (0: never)")
	legacy := flag.Bool("legacy-seconds", false, "ignore ?seconds= on allocs, block, mutex and heap, like Go before 1.16")
	dump := flag.String("dump", "", "write a copy of each allocs, block, mutex and heap profile served into this directory")
	writeTimeout := flag.Duration("write-timeout", 0, "the server's WriteTimeout (0: none)")
	flag.IntVar(&growChunk, "grow-chunk", 1<<20, "bytes of each chunk /debug/grow and -grow-every leak")
	growEvery := flag.Duration("grow-every", 0, "leak one chunk at this period (0: only on POST /debug/grow)")
	// Sample every ~16 KiB by default instead of 512 KiB so the small live set
	// still yields a heap profile with a useful number of samples.
	memProfileRate := flag.Int("mem-profile-rate", 16*1024, "runtime.MemProfileRate, set before any workload starts (1: every allocation)")
	blockRate := flag.Int("block-profile-rate", 1, "runtime.SetBlockProfileRate (0: off, Go's default)")
	mutexFraction := flag.Int("mutex-profile-fraction", 1, "runtime.SetMutexProfileFraction (0: off, Go's default)")
	flag.Parse()
	runtime.MemProfileRate = *memProfileRate
	if growChunk < 1 {
		log.Fatal("-grow-chunk must be at least 1")
	}
	if hotLoad < 0 {
		log.Fatal("-hot-load must be at least 0")
	}
	cpuLoad = *load
	if cpuLoad == 0 {
		// Idle targets (benchmarks start a hundred or more) only tick along.
		pace = 1000
	}

	runtime.SetBlockProfileRate(*blockRate)
	runtime.SetMutexProfileFraction(*mutexFraction)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if cpuLoad > 0 {
		go cpuWorkload()
	}
	go allocWorkload()
	startMutexWorkload()
	startChannelWorkload()
	http.HandleFunc("/debug/grow", serveGrow)
	if *growEvery > 0 {
		go func() {
			for range time.Tick(*growEvery) {
				growLeak(1)
			}
		}()
	}

	var handler http.Handler = http.DefaultServeMux
	if *legacy || *dump != "" {
		handler = &pprofTap{next: handler, legacy: *legacy, dump: *dump, served: map[string]int{}}
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: handler, WriteTimeout: *writeTimeout}
	log.Fatal(srv.Serve(ln))
}

// The leak: chunks growLeak allocated, reachable from here for good.
var (
	growChunk   int
	leakMu      sync.Mutex
	leaked      [][]byte
	leakedBytes int64
)

// growLeak allocates chunks more chunks of growChunk bytes, writes a byte to
// each page of them (a real leak's memory is used, so it is resident), keeps
// them, and returns the bytes held in all. Its own frame holds the
// allocations: a heap profile shows them as main.growLeak's inuse_space.
//
//go:noinline
func growLeak(chunks int) int64 {
	leakMu.Lock()
	defer leakMu.Unlock()
	for i := 0; i < chunks; i++ {
		b := make([]byte, growChunk)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		leaked = append(leaked, b)
	}
	leakedBytes += int64(chunks) * int64(growChunk)
	return leakedBytes
}

// serveGrow answers POST /debug/grow?chunks=N (N >= 0, at most 1 GiB at once)
// with the bytes held after growing by N chunks, as a decimal line.
func serveGrow(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	n, err := strconv.Atoi(r.URL.Query().Get("chunks"))
	if err != nil || n < 0 || int64(n)*int64(growChunk) > 1<<30 {
		http.Error(w, "chunks must be an integer from 0, and chunks x -grow-chunk at most 1 GiB", http.StatusBadRequest)
		return
	}
	fmt.Fprintln(w, growLeak(n))
}

// pprofTap sits in front of net/http/pprof for the cumulative profiles.
type pprofTap struct {
	next   http.Handler
	legacy bool
	dump   string
	mu     sync.Mutex
	served map[string]int
}

func (t *pprofTap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/")
	switch name {
	case "allocs", "block", "mutex", "heap":
	default:
		t.next.ServeHTTP(w, r)
		return
	}
	if t.legacy {
		// Go < 1.16 had no serveDeltaProfile: seconds meant nothing to these handlers.
		q := r.URL.Query()
		q.Del("seconds")
		r.URL.RawQuery = q.Encode()
	}
	if t.dump == "" {
		t.next.ServeHTTP(w, r)
		return
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	t.next.ServeHTTP(rec, r)
	if rec.status == http.StatusOK {
		t.mu.Lock()
		t.served[name]++
		n := t.served[name]
		t.mu.Unlock()
		// Written before the answer leaves, so a client that has the answer finds the file.
		file := filepath.Join(t.dump, fmt.Sprintf("%s-%03d.pb.gz", name, n))
		if err := os.WriteFile(file, rec.body.Bytes(), 0o644); err != nil {
			log.Printf("dump: %v", err)
		}
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// recorder keeps a whole answer in memory.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

// scaleLines answers "V RATIO" lines with int64(math.Round(float64(V)*RATIO)).
func scaleLines(in io.Reader, out io.Writer) error {
	lines := bufio.NewScanner(in)
	w := bufio.NewWriter(out)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return fmt.Errorf("want \"V RATIO\", got %q", lines.Text())
		}
		v, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return err
		}
		ratio, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, int64(math.Round(float64(v)*ratio)))
	}
	if err := lines.Err(); err != nil {
		return err
	}
	return w.Flush()
}

// cpuWorkload keeps about half a core busy (tests run several targets on
// 2-core CI) and splits that time 8:4:2:1 so the order of the top functions
// in a CPU profile is stable.
func cpuWorkload() {
	slice := time.Duration(float64(time.Millisecond) * cpuLoad)
	for {
		busy(8*slice, hashWork, 64)
		busy(4*slice, sortWork, 128)
		busy(2*slice, fibRecursive, 18)
		busy(1*slice, parseWork, 256)
		if hotLoad > 0 {
			busy(time.Duration(hotLoad*8*float64(slice)), hotPath, 64)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

// cpuLoad scales cpuWorkload (-load).
var cpuLoad = 1.0

// hotLoad is hotPath's share of cpuWorkload, in multiples of hashWork's (-hot-load).
var hotLoad = 0.0

// pace stretches the sleeps of the background workloads (1, or 1000 when idle).
var pace time.Duration = 1

// busy calls kernel(units) repeatedly for about d.
func busy(d time.Duration, kernel func(int) uint64, units int) {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		consume(kernel(units))
	}
}

// ring keeps allocRing's recent objects live, so inuse_* is non-empty. (A
// package variable: stores to a local array that is never read are dropped.)
var ring [256][]byte

// allocWorkload allocates steadily; allocRing's objects stay live in ring,
// allocScratch's become garbage at once.
func allocWorkload() {
	rng := rand.New(rand.NewSource(1))
	for i := 0; ; i++ {
		ring[i%len(ring)] = allocRing(1024 + rng.Intn(15*1024))
		consume(uint64(len(allocScratch(1024 + rng.Intn(7*1024)))))
		time.Sleep(pace * 2 * time.Millisecond)
	}
}

//go:noinline
func allocRing(size int) []byte { return make([]byte, size) }

//go:noinline
func allocScratch(size int) []byte {
	b := make([]byte, size)
	b[size-1] = 1
	return b
}

// startMutexWorkload makes three goroutines take turns on one mutex, holding
// it while sleeping so they contend without burning CPU.
func startMutexWorkload() {
	var mu sync.Mutex
	for i := 0; i < 3; i++ {
		go func() {
			for {
				contendMutex(&mu)
				time.Sleep(pace * time.Millisecond)
			}
		}()
	}
}

//go:noinline
func contendMutex(mu *sync.Mutex) {
	mu.Lock()
	time.Sleep(pace * 500 * time.Microsecond)
	mu.Unlock()
}

// startChannelWorkload has a consumer block on an unbuffered channel that a
// slow producer feeds, which shows up in the block profile.
func startChannelWorkload() {
	ch := make(chan int)
	go produceTicks(ch)
	go consumeTicks(ch)
}

func produceTicks(ch chan<- int) {
	for i := 0; ; i++ {
		time.Sleep(pace * 2 * time.Millisecond)
		ch <- i
	}
}

func consumeTicks(ch <-chan int) {
	for v := range ch {
		consume(uint64(v))
	}
}

// ---------------------------------------------------------------------------
// CPU kernels, shared by both modes. Each does its work in its own frame
// (no library calls) so it has flat time of its own in a profile.

var hashBuf = func() []byte {
	b := make([]byte, 1024)
	for i := range b {
		b[i] = byte(i * 31)
	}
	return b
}()

// hashWork runs FNV-1a over a 1 KiB buffer rounds times.
//
//go:noinline
func hashWork(rounds int) uint64 {
	h := uint64(14695981039346656037)
	for r := 0; r < rounds; r++ {
		for _, c := range hashBuf {
			h ^= uint64(c)
			h *= 1099511628211
		}
	}
	return h
}

// hotPath is the function a new build spends more CPU in (-hot-load): an
// FNV-1 (multiply, then xor) over the same buffer as hashWork, in its own frame.
//
//go:noinline
func hotPath(rounds int) uint64 {
	h := uint64(14695981039346656037)
	for r := 0; r < rounds; r++ {
		for _, c := range hashBuf {
			h *= 1099511628211
			h ^= uint64(c)
		}
	}
	return h
}

// sortWork fills n (at most 1024) pseudo-random values and insertion-sorts them.
//
//go:noinline
func sortWork(n int) uint64 {
	var buf [1024]uint32 // on the stack: no allocations in heap profiles
	if n > len(buf) {
		n = len(buf)
	}
	a := buf[:n]
	x := uint32(n)*2654435761 + 1
	for i := range a {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		a[i] = x
	}
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j-1] > a[j]; j-- {
			a[j-1], a[j] = a[j], a[j-1]
		}
	}
	return uint64(a[0])
}

// fibRecursive is the naive exponential Fibonacci.
func fibRecursive(n int) uint64 {
	if n < 2 {
		return uint64(n)
	}
	return fibRecursive(n-1) + fibRecursive(n-2)
}

// parseWork formats n numbers as decimal text and parses them back by hand.
//
//go:noinline
func parseWork(n int) uint64 {
	var buf [20]byte
	var total uint64
	for i := 0; i < n; i++ {
		v := uint64(i)*7919 + 12345
		p := len(buf)
		for {
			p--
			buf[p] = byte('0' + v%10)
			v /= 10
			if v == 0 {
				break
			}
		}
		var parsed uint64
		for _, c := range buf[p:] {
			parsed = parsed*10 + uint64(c-'0')
		}
		total += parsed
	}
	return total
}

// ---------------------------------------------------------------------------
// gen subcommand.

// cpuRateWarning is printed by the runtime when a rate is set before
// StartCPUProfile; see genCPU.
const cpuRateWarning = "runtime: cannot set cpu profile rate until previous profile has finished."

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	kind := fs.String("kind", "", "profile kind: cpu or heap")
	n := fs.Int("n", 1, "number of profiles to write")
	out := fs.String("out", "", "output directory (created if missing)")
	seed := fs.Int64("seed", 1, "seed for the pseudo-random workload")
	cpuMs := fs.Int("cpu-ms", 100, "milliseconds of CPU time per worker per cpu profile (CPU time, so a loaded machine still gets samples)")
	// CPU-time timers fire at most once per kernel tick, so a rate above
	// CONFIG_HZ (commonly 250) loses samples while each still counts 1/hz.
	hz := fs.Int("hz", 250, "cpu profile sampling rate; at most the kernel tick rate")
	workers := fs.Int("workers", 2, "goroutines working during each cpu profile")
	jobs := fs.Int("jobs", 2, "processes writing cpu profiles in parallel")
	shard := fs.Int("shard", -1, "internal: this child's index among -jobs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *n < 1 || *cpuMs < 1 || *hz < 1 || *workers < 1 || *jobs < 1 {
		return fmt.Errorf("need -out, and positive -n, -cpu-ms, -hz, -workers and -jobs")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	// Zero-padded to a common width so names sort in profile order.
	width := len(strconv.Itoa(*n))
	if width < 4 {
		width = 4
	}
	path := func(i int) string {
		return filepath.Join(*out, fmt.Sprintf("%s-%0*d.pb.gz", *kind, width, i+1))
	}
	switch *kind {
	case "cpu":
		if *shard < 0 {
			return runShards(args, *jobs)
		}
		return genCPU(*n, path, *seed, time.Duration(*cpuMs)*time.Millisecond, *hz, *workers, *shard, *jobs)
	case "heap":
		return genHeap(*n, path, *seed)
	default:
		return fmt.Errorf("-kind must be cpu or heap, not %q", *kind)
	}
}

// runShards re-runs gen in jobs child processes, each writing every jobs-th
// profile. StopCPUProfile returns only at the profile writer's next 100 ms
// poll after the data is drained, so each profile takes about twice its work
// time and the process idles half of it; one process can profile only once
// at a time, so parallel processes fill that idle time. Children's stdout
// (one path per line, each a single write) goes straight to ours; their
// stderr is passed on without the runtime's expected rate warning.
func runShards(args []string, jobs int) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	errs := make(chan error, jobs)
	for j := 0; j < jobs; j++ {
		cmd := exec.Command(exe, append(append([]string{"gen"}, args...), "-shard", strconv.Itoa(j))...)
		cmd.Stdout = os.Stdout
		stderr, err := cmd.StderrPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		go func() {
			lines := bufio.NewScanner(stderr)
			for lines.Scan() {
				if lines.Text() != cpuRateWarning {
					fmt.Fprintln(os.Stderr, lines.Text())
				}
			}
			errs <- cmd.Wait() // only after stderr is drained, as Wait requires
		}()
	}
	var first error
	for j := 0; j < jobs; j++ {
		if err := <-errs; err != nil && first == nil {
			first = fmt.Errorf("cpu gen child: %w", err)
		}
	}
	return first
}

// walker drives a pseudo-random walk through the walk* functions, so every
// call chain it reaches is a different stack, and ends in a leaf that does
// the profiled work. Each profile gets its own seed-derived mix of functions.
type walker struct {
	rng      *rand.Rand
	stepCum  []int // cumulative weights over steps
	leafCum  []int // cumulative weights over the leaves in use
	maxDepth int
	leaf     func(w *walker, which int)
}

// newWalker returns worker's walker for the given profile. Walkers of one
// profile share its function mix but draw their own walks.
func newWalker(seed int64, profile, worker, leaves, maxDepth int) *walker {
	mix := rand.New(rand.NewSource(seed*1_000_003 + int64(profile)))
	weights := func(k int) []int {
		w := make([]int, k)
		total := 0
		for i := range w {
			// Zero weights drop some functions from a profile entirely.
			w[i] = mix.Intn(4) * (1 + mix.Intn(8))
			total += w[i]
		}
		if total == 0 {
			w[mix.Intn(k)] = 1
		}
		for i := 1; i < k; i++ {
			w[i] += w[i-1] // cumulative, for pick
		}
		return w
	}
	stepCum, leafCum := weights(len(steps)), weights(leaves)
	rng := rand.New(rand.NewSource(mix.Int63() + int64(worker)))
	return &walker{rng: rng, stepCum: stepCum, leafCum: leafCum, maxDepth: maxDepth}
}

func pick(rng *rand.Rand, cum []int) int {
	x := rng.Intn(cum[len(cum)-1])
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

// run makes one walk of pseudo-random depth.
func (w *walker) run() {
	steps[pick(w.rng, w.stepCum)](w, w.rng.Intn(w.maxDepth))
}

// steps is filled in init: a table literal would be an initialization cycle.
var steps [6]func(w *walker, depth int)

func init() {
	steps = [...]func(*walker, int){walkAlpha, walkBeta, walkGamma, walkDelta, walkEpsilon, walkZeta}
}

// The walk* functions are identical on purpose: only their names differ, so
// the path a walk takes is visible in its stack.

//go:noinline
func walkAlpha(w *walker, depth int) {
	if depth == 0 {
		w.leaf(w, pick(w.rng, w.leafCum))
		return
	}
	steps[pick(w.rng, w.stepCum)](w, depth-1)
}

//go:noinline
func walkBeta(w *walker, depth int) {
	if depth == 0 {
		w.leaf(w, pick(w.rng, w.leafCum))
		return
	}
	steps[pick(w.rng, w.stepCum)](w, depth-1)
}

//go:noinline
func walkGamma(w *walker, depth int) {
	if depth == 0 {
		w.leaf(w, pick(w.rng, w.leafCum))
		return
	}
	steps[pick(w.rng, w.stepCum)](w, depth-1)
}

//go:noinline
func walkDelta(w *walker, depth int) {
	if depth == 0 {
		w.leaf(w, pick(w.rng, w.leafCum))
		return
	}
	steps[pick(w.rng, w.stepCum)](w, depth-1)
}

//go:noinline
func walkEpsilon(w *walker, depth int) {
	if depth == 0 {
		w.leaf(w, pick(w.rng, w.leafCum))
		return
	}
	steps[pick(w.rng, w.stepCum)](w, depth-1)
}

//go:noinline
func walkZeta(w *walker, depth int) {
	if depth == 0 {
		w.leaf(w, pick(w.rng, w.leafCum))
		return
	}
	steps[pick(w.rng, w.stepCum)](w, depth-1)
}

// cpuLeaf runs one kernel for roughly 20-300 µs, short enough that a 100 ms
// profile spreads over many different walks.
func cpuLeaf(w *walker, which int) {
	switch which {
	case 0:
		consume(hashWork(20 + w.rng.Intn(200)))
	case 1:
		consume(sortWork(100 + w.rng.Intn(400)))
	case 2:
		consume(fibRecursive(14 + w.rng.Intn(8)))
	default:
		consume(parseWork(500 + w.rng.Intn(5000)))
	}
}

// genCPU writes profiles shard, shard+jobs, ... of n, each covering work of
// wall time spent by workers goroutines.
func genCPU(n int, path func(int) string, seed int64, work time.Duration, hz, workers, shard, jobs int) error {
	for i := shard; i < n; i += jobs {
		ws := make([]*walker, workers)
		for k := range ws {
			ws[k] = newWalker(seed, i, k, 4, 10)
			ws[k].leaf = cpuLeaf
		}
		f, err := os.Create(path(i))
		if err != nil {
			return err
		}
		if hz != 100 {
			// StartCPUProfile keeps a rate set just before it, records it
			// as the profile's period, and prints cpuRateWarning.
			runtime.SetCPUProfileRate(hz)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		// The budget is CPU time, not wall time: SIGPROF fires per CPU time
		// used, so on a loaded machine a wall-clock budget can end before a
		// single sample was taken. wallLimit only guards against a stall.
		budget := processCPUTime() + work*time.Duration(workers)
		wallLimit := time.Now().Add(60*time.Second + 20*work)
		var done atomic.Bool
		var wg sync.WaitGroup
		for _, w := range ws {
			wg.Add(1)
			go func(w *walker) {
				defer wg.Done()
				for !done.Load() {
					w.run()
				}
			}(w)
		}
		for processCPUTime() < budget && time.Now().Before(wallLimit) {
			time.Sleep(time.Millisecond)
		}
		done.Store(true)
		wg.Wait()
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Println(path(i))
	}
	return nil
}

// processCPUTime is the user and system CPU time this process has used.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapRing keeps part of what genHeap allocates live, so inuse_* is non-empty.
var heapRing [512]any

// heapLeaf allocates one or a few objects through a kind-specific function.
// Sizes come from a short list: the runtime keeps one record per (stack,
// size class), so this bounds the number of samples.
func heapLeaf(w *walker, which int) {
	var obj any
	switch which {
	case 0:
		obj = allocBytes([]int{1 << 10, 8 << 10}[w.rng.Intn(2)])
	case 1:
		obj = allocInts([]int{96, 1 << 10}[w.rng.Intn(2)])
	case 2:
		obj = allocString(1 + w.rng.Intn(2))
	default:
		obj = allocNodes(8 + w.rng.Intn(32))
	}
	if w.rng.Intn(4) == 0 {
		heapRing[w.rng.Intn(len(heapRing))] = obj
	}
}

//go:noinline
func allocBytes(size int) []byte { return make([]byte, size) }

//go:noinline
func allocInts(n int) []int64 { return make([]int64, n) }

//go:noinline
func allocString(kib int) string { return strings.Repeat("profefe!", kib*128) }

type node struct {
	next    *node
	payload [56]byte
}

//go:noinline
func allocNodes(n int) *node {
	var head *node
	for i := 0; i < n; i++ {
		head = &node{next: head}
	}
	return head
}

// genHeap writes n heap profiles, each after another burst of allocations.
// The profiles are cumulative (as a real process's are), so later ones have
// more samples: with walks at most 3 deep they level off at a few thousand.
func genHeap(n int, path func(int) string, seed int64) error {
	// Record every allocation, so that a seed gives the same values each run.
	// A rate set now applies to each P only after its next sample, drawn at the
	// default rate (512 KiB on average): with any other rate a burst could pass
	// unsampled and a profile come out empty (it did, on a loaded machine).
	runtime.MemProfileRate = 1
	for i := 0; i < n; i++ {
		w := newWalker(seed, i, 0, 4, 3)
		w.leaf = heapLeaf
		for j := 0; j < 200; j++ {
			w.run()
		}
		// The heap profile reports the state as of the last completed GC.
		runtime.GC()
		f, err := os.Create(path(i))
		if err != nil {
			return err
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Println(path(i))
	}
	return nil
}
