package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// derive writes n profiles into -out, named like gen's (KIND-0001.pb.gz, ...,
// KIND taken from the first real profile's name): the first R are the R real
// profiles of -from unchanged, each later one real profile i mod R varied by
// deriveProfile with a generator seeded from -seed and i.
func derive(args []string) error {
	fs := flag.NewFlagSet("derive", flag.ContinueOnError)
	from := fs.String("from", "", "directory of real profiles (*.pb.gz, gzipped profile.proto)")
	n := fs.Int("n", 1, "number of profiles to write")
	out := fs.String("out", "", "output directory (created if missing)")
	seed := fs.Int64("seed", 1, "seed for the variations")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *out == "" || *n < 1 {
		return fmt.Errorf("need -from, -out and a positive -n")
	}
	real, err := filepath.Glob(filepath.Join(*from, "*.pb.gz"))
	if err != nil {
		return err
	}
	if len(real) == 0 {
		return fmt.Errorf("no *.pb.gz in %s", *from)
	}
	sort.Strings(real)
	kind := strings.SplitN(filepath.Base(real[0]), "-", 2)[0]
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	width := len(strconv.Itoa(*n))
	if width < 4 {
		width = 4
	}
	// The real profiles, gunzipped once each.
	bases := make([][]byte, len(real))
	for i, file := range real {
		if i >= *n {
			break
		}
		gz, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if bases[i], err = gunzip(gz); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := os.WriteFile(filepath.Join(*out, fmt.Sprintf("%s-%0*d.pb.gz", kind, width, i+1)), gz, 0o644); err != nil {
			return err
		}
	}
	for i := len(real); i < *n; i++ {
		rng := rand.New(rand.NewSource(*seed*1_000_003 + int64(i)))
		round := int64(i / len(real))
		pb, err := deriveProfile(bases[i%len(real)], rng, round*int64(time.Hour))
		if err != nil {
			return fmt.Errorf("%s: %w", real[i%len(real)], err)
		}
		var buf bytes.Buffer
		// The level runtime/pprof writes with.
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(pb)
		if err := zw.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, fmt.Sprintf("%s-%0*d.pb.gz", kind, width, i+1)), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func gunzip(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// deriveProfile rewrites a profile.proto message field by field, keeping the
// bytes (mappings, locations, functions, strings, sample types, period, the
// order of fields) of the real profile except that it
//   - drops about one sample in eight (never the first),
//   - multiplies all values of each other sample by the same 1, 2 or 3, so
//     that values stay consistent with each other (CPU nanoseconds = samples
//     x period; heap bytes = objects x size),
//   - moves time_nanos later by shift nanoseconds.
//
// So each derived profile has its own set of samples and values over the
// real profile's stacks, as another pod of the same binary would.
func deriveProfile(pb []byte, rng *rand.Rand, shift int64) ([]byte, error) {
	out := make([]byte, 0, len(pb))
	first := true
	for len(pb) > 0 {
		field, wire, body, rest, raw, err := nextField(pb)
		if err != nil {
			return nil, err
		}
		pb = rest
		switch {
		case field == 2 && wire == 2: // sample
			if !first && rng.Intn(8) == 0 {
				continue
			}
			first = false
			sample, err := scaleSample(body, int64(1+rng.Intn(3)))
			if err != nil {
				return nil, err
			}
			out = binary.AppendUvarint(out, 2<<3|2)
			out = binary.AppendUvarint(out, uint64(len(sample)))
			out = append(out, sample...)
		case field == 9 && wire == 0: // time_nanos
			t, _ := binary.Uvarint(body)
			out = binary.AppendUvarint(out, 9<<3)
			out = binary.AppendUvarint(out, uint64(int64(t)+shift))
		default:
			out = append(out, raw...)
		}
	}
	return out, nil
}

// scaleSample multiplies every value (field 2, packed or not) of a Sample
// message by k; other fields are copied as they are.
func scaleSample(pb []byte, k int64) ([]byte, error) {
	out := make([]byte, 0, len(pb)+8)
	for len(pb) > 0 {
		field, wire, body, rest, raw, err := nextField(pb)
		if err != nil {
			return nil, err
		}
		pb = rest
		switch {
		case field == 2 && wire == 2:
			var values []byte
			for len(body) > 0 {
				v, n := binary.Uvarint(body)
				if n <= 0 {
					return nil, errors.New("bad packed value")
				}
				body = body[n:]
				values = binary.AppendUvarint(values, uint64(int64(v)*k))
			}
			out = binary.AppendUvarint(out, 2<<3|2)
			out = binary.AppendUvarint(out, uint64(len(values)))
			out = append(out, values...)
		case field == 2 && wire == 0:
			v, _ := binary.Uvarint(body)
			out = binary.AppendUvarint(out, 2<<3)
			out = binary.AppendUvarint(out, uint64(int64(v)*k))
		default:
			out = append(out, raw...)
		}
	}
	return out, nil
}

// nextField splits off the first field of a protobuf message: its number, wire
// type, body (the varint's bytes for wire type 0, the payload for 2), the rest
// of the message, and the field's raw bytes including its key.
func nextField(pb []byte) (field int, wire int, body, rest, raw []byte, err error) {
	key, n := binary.Uvarint(pb)
	if n <= 0 {
		return 0, 0, nil, nil, nil, errors.New("bad field key")
	}
	field, wire = int(key>>3), int(key&7)
	p := pb[n:]
	var size int
	switch wire {
	case 0:
		_, m := binary.Uvarint(p)
		if m <= 0 {
			return 0, 0, nil, nil, nil, errors.New("bad varint")
		}
		size = m
	case 1:
		size = 8
	case 2:
		l, m := binary.Uvarint(p)
		if m <= 0 || l > uint64(len(p)-m) {
			return 0, 0, nil, nil, nil, errors.New("bad length")
		}
		p = p[m:]
		n += m
		size = int(l)
	case 5:
		size = 4
	default:
		return 0, 0, nil, nil, nil, fmt.Errorf("wire type %d", wire)
	}
	if size > len(p) {
		return 0, 0, nil, nil, nil, errors.New("truncated field")
	}
	return field, wire, p[:size], p[size:], pb[:n+size], nil
}
