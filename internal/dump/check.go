package dump

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/amigo-ec2/amigo/internal/query"
)

// maxListed bounds the problems a refused import names; the count says how
// many more there are.
const maxListed = 100

// CheckError is an import refused before anything was written: every
// offending line of the file, in order.
type CheckError struct {
	Problems []string // "line N: …", at most maxListed
	Total    int
	lines    []int // of Problems
}

func (e *CheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "import: %d problem(s) in the file; nothing was imported", e.Total)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p)
	}
	if more := e.Total - len(e.Problems); more > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", more)
	}
	return b.String()
}

// Check reads a whole export and reports every line Import would fail on
// or that the stores must not hold: invalid UTF-8 or a NUL character in
// any string (query.ValidText, the contract the API holds every request
// to: PostgreSQL cannot store them), lines that are not JSON records,
// unknown kinds, a header of another version, a record without its body,
// and an image, instance, volume or snapshot id given twice. It returns nil or a *CheckError.
//
// Its memory does not grow with the file for an export as amigo writes
// it: each kind's records come in key order (id then region, or, from
// earlier versions, region then id), where a repeated id is the record
// before. Only for a kind out of order (a file edited by hand) does a
// second read of the file remember that kind's keys to find repeats.
func Check(r io.ReadSeeker) error {
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	ce := &CheckError{}
	orders := map[string]*keyOrder{}
	var repeats problems // repeats among records in order
	err = scanLines(r, func(line int, b []byte) {
		rec, problem := checkLine(b)
		if problem != "" {
			ce.add(line, problem)
			return
		}
		if k, ok := recordKey(rec); ok {
			o := orders[k.kind]
			if o == nil {
				o = &keyOrder{idMajor: true, regionMajor: true}
				orders[k.kind] = o
			}
			if first, ok := o.next(k, line); !ok {
				repeats.add(line, repeated(k, first))
			}
		}
	})
	if err != nil {
		return err
	}
	var unsorted []string
	for kind, o := range orders {
		if !o.idMajor && !o.regionMajor {
			unsorted = append(unsorted, kind)
		}
	}
	if len(unsorted) > 0 {
		// Some kind is out of order: find its repeats by remembering its
		// keys, and the others' again by order, in a second read.
		if _, err := r.Seek(start, io.SeekStart); err != nil {
			return fmt.Errorf("import: rewinding the input: %w", err)
		}
		repeats = problems{}
		seen := map[idKey]int{}
		orders = map[string]*keyOrder{}
		err := scanLines(r, func(line int, b []byte) {
			rec, problem := checkLine(b)
			if problem != "" {
				return
			}
			k, ok := recordKey(rec)
			if !ok {
				return
			}
			if slices.Contains(unsorted, k.kind) {
				if first, ok := seen[k]; ok {
					repeats.add(line, repeated(k, first))
				} else {
					seen[k] = line
				}
				return
			}
			o := orders[k.kind]
			if o == nil {
				o = &keyOrder{idMajor: true, regionMajor: true}
				orders[k.kind] = o
			}
			if first, ok := o.next(k, line); !ok {
				repeats.add(line, repeated(k, first))
			}
		})
		if err != nil {
			return err
		}
	}
	ce.merge(repeats)
	if ce.Total > 0 {
		return ce
	}
	return nil
}

// idKey is a record's identity: two records of one key are one too many.
type idKey struct{ kind, region, id string }

func repeated(k idKey, first int) string {
	return fmt.Sprintf("%s %s in %s already given on line %d", k.kind, k.id, k.region, first)
}

// recordKey is the identity of an image, instance, volume or snapshot
// record; ok is false for the other kinds.
func recordKey(rec *record) (idKey, bool) {
	switch rec.Kind {
	case "image":
		return idKey{"image", rec.Image.Region, rec.Image.ID}, true
	case "instance":
		return idKey{"instance", rec.Instance.Region, rec.Instance.ID}, true
	case "volume":
		return idKey{"volume", rec.Volume.Region, rec.Volume.ID}, true
	case "snapshot":
		return idKey{"snapshot", rec.Snapshot.Region, rec.Snapshot.ID}, true
	}
	return idKey{}, false
}

// keyOrder follows one kind's keys through the file: while they rise in
// one of the orders an export writes, a repeat can only be the key just
// before (next reports it, with the line that gave the key first).
type keyOrder struct {
	prev                 idKey
	prevLine             int
	started              bool
	idMajor, regionMajor bool // the keys so far rise in this order
}

func (o *keyOrder) next(k idKey, line int) (first int, ok bool) {
	if !o.started {
		o.prev, o.prevLine, o.started = k, line, true
		return 0, true
	}
	if k == o.prev {
		return o.prevLine, false
	}
	if k.id < o.prev.id || k.id == o.prev.id && k.region < o.prev.region {
		o.idMajor = false
	}
	if k.region < o.prev.region || k.region == o.prev.region && k.id < o.prev.id {
		o.regionMajor = false
	}
	o.prev, o.prevLine = k, line
	return 0, true
}

// checkLine decodes one non-empty line and returns the problem that keeps
// it out of a store, or "".
func checkLine(b []byte) (*record, string) {
	if !utf8.Valid(b) {
		return nil, "invalid UTF-8"
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Sprintf("not a JSON record: %v", err)
	}
	if s, ok := firstBadText(reflect.ValueOf(rec)); !ok {
		return nil, fmt.Sprintf("a string holds a NUL character or invalid UTF-8: %q", truncate(s))
	}
	switch rec.Kind {
	case "header":
		if rec.Version != Version {
			return nil, fmt.Sprintf("export format version %d, this amigo reads %d", rec.Version, Version)
		}
		return &rec, ""
	case "account", "organization":
		return &rec, ""
	case "setting", "image", "tag", "instance", "client_token", "volume", "snapshot", "event", "outbox":
	default:
		return nil, fmt.Sprintf("unknown record kind %q", rec.Kind)
	}
	if bodyMissing(&rec) {
		return nil, fmt.Sprintf("%s record without its body", rec.Kind)
	}
	return &rec, ""
}

// scanLines calls f with each non-empty line of r and its number.
func scanLines(r io.Reader, f func(line int, b []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) > 0 {
			f(line, sc.Bytes())
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("import: line %d: %w", line+1, err)
	}
	return nil
}

// problems are the first maxListed problems of a read, in line order, and
// how many there were.
type problems struct {
	lines []int
	texts []string
	total int
}

func (p *problems) add(line int, text string) {
	p.total++
	if len(p.lines) < maxListed {
		p.lines = append(p.lines, line)
		p.texts = append(p.texts, text)
	}
}

func (e *CheckError) add(line int, text string) {
	e.Total++
	if len(e.Problems) < maxListed {
		e.Problems = append(e.Problems, fmt.Sprintf("line %d: %s", line, text))
		e.lines = append(e.lines, line)
	}
}

// merge adds p's problems to e's, keeping the first maxListed of both by
// line (each list is in line order and holds its own first maxListed).
func (e *CheckError) merge(p problems) {
	lines, texts := e.lines, e.Problems
	e.lines, e.Problems = nil, nil
	i, j := 0, 0
	for len(e.Problems) < maxListed && (i < len(lines) || j < len(p.lines)) {
		if j == len(p.lines) || i < len(lines) && lines[i] <= p.lines[j] {
			e.lines, e.Problems = append(e.lines, lines[i]), append(e.Problems, texts[i])
			i++
		} else {
			e.lines, e.Problems = append(e.lines, p.lines[j]), append(e.Problems, fmt.Sprintf("line %d: %s", p.lines[j], p.texts[j]))
			j++
		}
	}
	e.Total += p.total
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// firstBadText walks the exported fields of a decoded record and returns
// the first string (or map key) that query.ValidText refuses.
func firstBadText(v reflect.Value) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return firstBadText(v.Elem())
		}
	case reflect.Struct:
		t := v.Type()
		for i := range v.NumField() {
			if !t.Field(i).IsExported() {
				continue // time.Time and friends: not text from the file
			}
			if s, ok := firstBadText(v.Field(i)); !ok {
				return s, false
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", true // bytes, not text
		}
		for i := range v.Len() {
			if s, ok := firstBadText(v.Index(i)); !ok {
				return s, false
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if s, ok := firstBadText(it.Key()); !ok {
				return s, false
			}
			if s, ok := firstBadText(it.Value()); !ok {
				return s, false
			}
		}
	case reflect.String:
		if !query.ValidText(v.String()) {
			return v.String(), false
		}
	}
	return "", true
}

// rewindable returns r as a reader Import can read twice, once to check and
// once to load: r itself when it seeks (a file), else a temporary copy (a
// pipe). done removes the copy.
func rewindable(r io.Reader) (rs io.ReadSeeker, start int64, done func(), err error) {
	if s, ok := r.(io.ReadSeeker); ok {
		if start, err := s.Seek(0, io.SeekCurrent); err == nil {
			return s, start, func() {}, nil
		}
	}
	f, err := os.CreateTemp("", "amigo-import-*.jsonl")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("import: a copy of the input to check it first: %w", err)
	}
	done = func() { f.Close(); os.Remove(f.Name()) }
	if _, err := io.Copy(f, r); err != nil {
		done()
		return nil, 0, nil, fmt.Errorf("import: a copy of the input to check it first: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		done()
		return nil, 0, nil, fmt.Errorf("import: a copy of the input to check it first: %w", err)
	}
	return f, 0, done, nil
}
