// Command ref answers questions about Go and pprof behaviour for the tests, with the exact code
// of the `go tool pprof` on PATH: test/support/go-ref.ts builds it inside a copy of that pprof
// (GOROOT/src/cmd/vendor/github.com/google/pprof, as module github.com/google/pprof), so it can
// call pprof's internal packages. One JSON request per stdin line, one JSON answer per line.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/pprof/internal/measurement"
	"github.com/google/pprof/profile"
)

type request struct {
	Op      string   `json:"op"`
	Format  string   `json:"format"`
	Bits    string   `json:"bits"`    // a float64 as its IEEE bits, hex
	Value   string   `json:"value"`   // an int64, decimal
	Total   string   `json:"total"`   // an int64, decimal
	From    string   `json:"from"`    // a unit
	To      string   `json:"to"`      // a unit
	Pattern string   `json:"pattern"` // a regexp
	Inputs  []string `json:"inputs"`
	File    string   `json:"file"`
}

type answer struct {
	Out     string   `json:"out,omitempty"`
	Unit    string   `json:"unit,omitempty"`
	Error   string   `json:"error,omitempty"`
	Matches []bool   `json:"matches,omitempty"`
	Samples []string `json:"samples,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var r request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := enc.Encode(handle(r)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := out.Flush(); err != nil {
			os.Exit(2)
		}
	}
}

func int64Of(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return v
}

func handle(r request) answer {
	switch r.Op {
	case "sprintf":
		bits, err := strconv.ParseUint(r.Bits, 16, 64)
		if err != nil {
			return answer{Error: err.Error()}
		}
		return answer{Out: fmt.Sprintf(r.Format, math.Float64frombits(bits))}
	case "scaledLabel":
		return answer{Out: measurement.ScaledLabel(int64Of(r.Value), r.From, r.To)}
	case "scale":
		v, u := measurement.Scale(int64Of(r.Value), r.From, r.To)
		return answer{Out: strconv.FormatFloat(v, 'g', -1, 64), Unit: u}
	case "percentage":
		return answer{Out: measurement.Percentage(int64Of(r.Value), int64Of(r.Total))}
	case "regexp":
		// As profile.RemoveUninteresting compiles drop_frames and keep_frames.
		re, err := regexp.Compile("^(" + r.Pattern + ")$")
		if err != nil {
			return answer{Error: err.Error()}
		}
		m := make([]bool, len(r.Inputs))
		for i, s := range r.Inputs {
			m[i] = re.MatchString(s)
		}
		return answer{Matches: m}
	case "removeUninteresting":
		f, err := os.Open(r.File)
		if err != nil {
			return answer{Error: err.Error()}
		}
		defer f.Close()
		p, err := profile.Parse(f)
		if err != nil {
			return answer{Error: err.Error()}
		}
		a := answer{}
		if err := p.RemoveUninteresting(); err != nil {
			a.Error = err.Error()
		}
		// Each sample as its frames, root first (one per location line, callers first), and values.
		for _, s := range p.Sample {
			var frames []string
			for i := len(s.Location) - 1; i >= 0; i-- {
				l := s.Location[i]
				if len(l.Line) == 0 {
					frames = append(frames, fmt.Sprintf("%#x", l.Address))
				}
				for j := len(l.Line) - 1; j >= 0; j-- {
					frames = append(frames, l.Line[j].Function.Name)
				}
			}
			vals := make([]string, len(s.Value))
			for i, v := range s.Value {
				vals[i] = strconv.FormatInt(v, 10)
			}
			a.Samples = append(a.Samples, strings.Join(frames, ";")+" "+strings.Join(vals, ","))
		}
		return a
	}
	return answer{Error: "unknown op " + r.Op}
}
