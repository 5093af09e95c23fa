package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// OwnedImage is one image and the account that owns it: a line
// "owner-account image-id [snapshot-id]" of the ids file. Snapshot, when
// known, is the image's root snapshot (populate writes it).
type OwnedImage struct {
	Owner    string
	ID       string
	Snapshot string
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	imageIDRE = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	snapIDRE  = regexp.MustCompile(`^snap-[0-9a-f]{8,17}$`)
)

// ReadIDs reads an ids file: one "owner-account image-id [snapshot-id]"
// per line; blank lines and lines starting with # are skipped.
func ReadIDs(r io.Reader) ([]OwnedImage, error) {
	var out []OwnedImage
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || len(f) > 3 || !accountRE.MatchString(f[0]) || !imageIDRE.MatchString(f[1]) || len(f) == 3 && !snapIDRE.MatchString(f[2]) {
			return nil, fmt.Errorf("line %d: want \"<12-digit owner account> <ami-id> [<snap-id>]\", got %q", n, line)
		}
		im := OwnedImage{Owner: f[0], ID: f[1]}
		if len(f) == 3 {
			im.Snapshot = f[2]
		}
		out = append(out, im)
	}
	return out, sc.Err()
}

func readIDsFile(path string) ([]OwnedImage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ids, err := ReadIDs(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ids, nil
}

// WriteIDs writes images in the form ReadIDs reads.
func WriteIDs(w io.Writer, images []OwnedImage) error {
	bw := bufio.NewWriter(w)
	for _, im := range images {
		if im.Snapshot != "" {
			fmt.Fprintf(bw, "%s %s %s\n", im.Owner, im.ID, im.Snapshot)
			continue
		}
		fmt.Fprintf(bw, "%s %s\n", im.Owner, im.ID)
	}
	return bw.Flush()
}

func writeIDsFile(path string, images []OwnedImage) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteIDs(f, images); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
