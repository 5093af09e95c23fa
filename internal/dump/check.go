package dump

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
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
func Check(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	ce := &CheckError{}
	add := func(line int, format string, args ...any) {
		ce.Total++
		if len(ce.Problems) < maxListed {
			ce.Problems = append(ce.Problems, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
		}
	}
	type idKey struct{ kind, region, id string }
	seen := map[idKey]int{} // → the line that gave it first
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		if !utf8.Valid(b) {
			add(line, "invalid UTF-8")
			continue
		}
		var rec record
		if err := json.Unmarshal(b, &rec); err != nil {
			add(line, "not a JSON record: %v", err)
			continue
		}
		if s, ok := firstBadText(reflect.ValueOf(rec)); !ok {
			add(line, "a string holds a NUL character or invalid UTF-8: %q", truncate(s))
			continue
		}
		switch rec.Kind {
		case "header":
			if rec.Version != Version {
				add(line, "export format version %d, this amigo reads %d", rec.Version, Version)
			}
			continue
		case "account", "organization":
			continue
		case "setting", "image", "tag", "instance", "client_token", "volume", "snapshot", "event":
		default:
			add(line, "unknown record kind %q", rec.Kind)
			continue
		}
		if bodyMissing(&rec) {
			add(line, "%s record without its body", rec.Kind)
			continue
		}
		var k idKey
		switch rec.Kind {
		case "image":
			k = idKey{"image", rec.Image.Region, rec.Image.ID}
		case "instance":
			k = idKey{"instance", rec.Instance.Region, rec.Instance.ID}
		case "volume":
			k = idKey{"volume", rec.Volume.Region, rec.Volume.ID}
		case "snapshot":
			k = idKey{"snapshot", rec.Snapshot.Region, rec.Snapshot.ID}
		default:
			continue
		}
		if first, ok := seen[k]; ok {
			add(line, "%s %s in %s already given on line %d", k.kind, k.id, k.region, first)
		} else {
			seen[k] = line
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("import: line %d: %w", line+1, err)
	}
	if ce.Total > 0 {
		return ce
	}
	return nil
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
