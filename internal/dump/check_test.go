package dump

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/amigo-ec2/amigo/internal/datagen"
	"github.com/amigo-ec2/amigo/internal/image"
	"github.com/amigo-ec2/amigo/internal/instance"
	"github.com/amigo-ec2/amigo/internal/resource"
)

// goodLines returns the export of a store with more images than one import
// batch, one record a line: a load that did not check first would commit
// a batch before it met a bad line at the end.
func goodLines(t *testing.T) []string {
	t.Helper()
	st := openSQLite(t)
	err := datagen.Generate(context.Background(), st, datagen.Options{Region: "us-east-1", Images: 2100,
		Accounts: []string{"111122223333"}, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(export(t, st)), "\n"), "\n")
}

// holdings reports what a store holds, to show that a refused import wrote
// nothing.
func holdings(t *testing.T, st image.Store) (images, tags int) {
	t.Helper()
	ctx := context.Background()
	err := st.View(ctx, func(tx image.Tx) error {
		imgs, err := tx.FindImages(ctx, image.Query{IncludeDeregistered: true})
		if err != nil {
			return err
		}
		ts, err := tx.ListTags(ctx, resource.TagQuery{})
		images, tags = len(imgs), len(ts)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return images, tags
}

// onlyReader hides Seek, as a pipe would.
type onlyReader struct{ io.Reader }

// TestImportRefusesBadFileWhole: every bad line is named, with its number,
// and nothing is written, on both engines, whether the input seeks or not.
func TestImportRefusesBadFileWhole(t *testing.T) {
	lines := goodLines(t)
	var imageLine string
	for _, l := range lines {
		if strings.Contains(l, `"kind":"image"`) {
			imageLine = l
			break
		}
	}
	// Good records first, so a load that did not check first would have
	// written them before failing.
	bad := append([]string{}, lines...)
	bad = append(bad,
		`{"kind":"tag","tag":{"Region":"us-east-1","Account":"111122223333","ResourceID":"ami-0123456789abcdef0","Key":"k","Value":"bad`+"\xff"+`"}}`,
		`{"kind":"tag","tag":{"Region":"us-east-1","Account":"111122223333","ResourceID":"ami-0123456789abcdef0","Key":"k","Value":"a\u0000b"}}`,
		`{"kind":"image","image":`,
		`{"kind":"keypair"}`,
		`{"kind":"image"}`,
		imageLine,
		`{"kind":"header","version":99}`,
	)
	n := len(lines)
	want := []string{
		lineNo(n+1) + "invalid UTF-8",
		lineNo(n+2) + `a string holds a NUL character or invalid UTF-8: "a\x00b"`,
		lineNo(n+3) + "not a JSON record: unexpected end of JSON input",
		lineNo(n+4) + `unknown record kind "keypair"`,
		lineNo(n+5) + "image record without its body",
		"", // the repeated image: checked by prefix below
		lineNo(n+7) + "export format version 99, this amigo reads 1",
	}
	data := []byte(strings.Join(bad, "\n") + "\n")
	engines := map[string]func(*testing.T) instance.Store{"sqlite": openSQLite, "postgres": openPostgres}
	for name, open := range engines {
		for _, seekable := range []bool{true, false} {
			t.Run(name+map[bool]string{true: "/file", false: "/pipe"}[seekable], func(t *testing.T) {
				st := open(t)
				var r io.Reader = bytes.NewReader(data)
				if !seekable {
					r = onlyReader{r}
				}
				_, err := Import(context.Background(), st, r)
				var ce *CheckError
				if !errors.As(err, &ce) {
					t.Fatalf("Import = %v, want a *CheckError", err)
				}
				if ce.Total != len(want) || len(ce.Problems) != len(want) {
					t.Fatalf("problems:\n%s", strings.Join(ce.Problems, "\n"))
				}
				for i, w := range want {
					if w == "" {
						if !strings.HasPrefix(ce.Problems[i], lineNo(n+6)+"image ami-") || !strings.Contains(ce.Problems[i], "already given on line") {
							t.Errorf("problem %d = %q, want the repeated image", i, ce.Problems[i])
						}
						continue
					}
					if ce.Problems[i] != w {
						t.Errorf("problem %d = %q\nwant        %q", i, ce.Problems[i], w)
					}
				}
				if imgs, tags := holdings(t, st); imgs != 0 || tags != 0 {
					t.Errorf("refused import wrote %d images, %d tags", imgs, tags)
				}
				if seekable {
					return
				}
				// The same store takes the good file afterwards (once per
				// engine: a load of 2,100 images is not free).
				good := []byte(strings.Join(lines, "\n") + "\n")
				r = onlyReader{bytes.NewReader(good)}
				stats, err := Import(context.Background(), st, r)
				if err != nil || stats.Images != 2100 {
					t.Fatalf("good import after a refused one: %+v, %v", stats, err)
				}
			})
		}
	}
}

func lineNo(n int) string { return "line " + strconv.Itoa(n) + ": " }

// TestExportOfBadTextRefusedByImport: text a store was given behind the
// API's back (SQLite holds NUL) is named by import, not a failure halfway
// through a PostgreSQL load.
func TestExportOfBadTextRefusedByImport(t *testing.T) {
	ctx := context.Background()
	src := openSQLite(t)
	if err := datagen.Generate(ctx, src, datagen.Options{Region: "us-east-1", Images: 3, Accounts: []string{"111122223333"}, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	err := src.Update(ctx, func(tx image.Tx) error {
		imgs, err := tx.FindImages(ctx, image.Query{Region: "us-east-1", Limit: 1})
		if err != nil {
			return err
		}
		return tx.SetTags(ctx, "us-east-1", "111122223333", imgs[0].ID, []resource.Tag{{Key: "k", Value: "nul\x00here"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	data := export(t, src)
	dst := openPostgres(t)
	_, err = Import(ctx, dst, bytes.NewReader(data))
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Total != 1 || !strings.Contains(ce.Problems[0], "NUL") {
		t.Fatalf("Import = %v, want one NUL problem", err)
	}
	if imgs, _ := holdings(t, dst); imgs != 0 {
		t.Errorf("refused import wrote %d images", imgs)
	}
}

func TestCheckErrorListsAtMostMaxListed(t *testing.T) {
	var b strings.Builder
	for range maxListed + 5 {
		b.WriteString("{\"kind\":\"nope\"}\n")
	}
	err := Check(strings.NewReader(b.String()))
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Total != maxListed+5 || len(ce.Problems) != maxListed || !strings.HasSuffix(err.Error(), "… and 5 more") {
		t.Fatalf("Check = %v", err)
	}
}
